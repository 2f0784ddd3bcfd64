/**
 * What a CRUD request carries besides its query and body (crud-api.md §6): the user id (creatorId /
 * updaterId), the three ACL headers and the base64 encoding of `_q` / `_rawp`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { badRequest } from './errors.js';

export interface RequestContext {
  readonly userId: string;
  /** Raw `acl_rows` header (a JSON filter or array of filters), undefined when absent. */
  readonly aclRows?: string;
  /** Fields reads may return; undefined = all. */
  readonly readColumns?: ReadonlySet<string>;
  /** Fields updates may touch; undefined = all. */
  readonly writeColumns?: ReadonlySet<string>;
  readonly base64: boolean;
}

const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

const ANONYMOUS = new Set(['', 'null', 'undefined']);

function columns(value: string | undefined): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  return new Set(value.split(',').map((c) => c.trim()).filter((c) => c !== ''));
}

/** Reads the identity headers; `userIdHeader` is `server.userIdHeader` (lower case). */
export function requestContext(headers: IncomingHttpHeaders, userIdHeader: string): RequestContext {
  const user = single(headers[userIdHeader])?.trim();
  const aclRows = single(headers.acl_rows);
  const readColumns = columns(single(headers.acl_read_columns));
  const writeColumns = columns(single(headers.acl_write_columns));
  return {
    userId: user === undefined || ANONYMOUS.has(user) ? 'public' : user,
    base64: single(headers['json-query-params-encoding'])?.toLowerCase() === 'base64',
    ...(aclRows === undefined || aclRows.trim() === '' ? {} : { aclRows }),
    ...(readColumns === undefined ? {} : { readColumns }),
    ...(writeColumns === undefined ? {} : { writeColumns }),
  };
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Parses a JSON query parameter (`_q`, `_rawp`) or header, decoding base64 first when asked. Malformed
 * JSON is a 400 naming the parameter and the parse position (Mia answers 500 here; crud-api.md §10).
 */
export function parseJsonParam(name: string, raw: string, base64: boolean): unknown {
  let text = raw;
  if (base64) {
    if (!BASE64.test(raw)) throw badRequest(`${name} is not valid base64`);
    text = Buffer.from(raw, 'base64').toString('utf8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`${name} is not valid JSON: ${(error as Error).message}`);
  }
}
