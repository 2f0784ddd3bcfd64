/** `_s` to a store sort (crud-api.md §3): `field` or `-field`, comma lists or repeated, known fields only. */
import { badRequest } from '../errors.js';
import type { CollectionModel } from '../model/collection-model.js';
import { nodeAtPath } from '../model/type-node.js';
import type { Sort } from '../../ports/document-store.js';

const FIELD = /^-?[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;

/** Parses `_s` (string or repeated); undefined when absent. */
export function parseSort(model: CollectionModel, s: string | readonly string[] | undefined): Sort | undefined {
  if (s === undefined) return undefined;
  const sort: Record<string, 1 | -1> = {};
  for (const item of (typeof s === 'string' ? [s] : s).flatMap((v) => v.split(','))) {
    const token = item.trim();
    if (token === '') continue;
    if (!FIELD.test(token)) throw badRequest(`_s: invalid sort field "${token}"`);
    const field = token.startsWith('-') ? token.slice(1) : token;
    if (nodeAtPath(model.root, field.split('.')) === undefined) throw badRequest(`Unknown field: ${field}`);
    sort[field] = token.startsWith('-') ? -1 : 1;
  }
  return Object.keys(sort).length === 0 ? undefined : sort;
}
