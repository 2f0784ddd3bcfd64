import { FORBIDDEN_KEYS } from '../../expressions/acl/parser.js';
import type { UserinfoDefinition } from '../../config/sections/gateway.js';
import type { Clock } from '../../ports/clock.js';
import { createTimeout, type Call } from '../../resilience/index.js';
import { createUpstreamClient, sendUpstream } from '../proxy/index.js';
import type { JwtOutcome } from './jwt.js';

/** `auth.userinfo` after normalization: the descriptor's fields with durations in milliseconds. */
export interface UserinfoOptions extends Omit<UserinfoDefinition, 'cacheFor' | 'timeout'> {
  /** How long an answer is reused for the same token or cookie; default 30 s (0 disables the cache). */
  readonly cacheFor?: number;
  /** Time allowed for one call; default 5 s. */
  readonly timeout?: number;
  /** Answers kept at most; default 10000 (the oldest dropped first). */
  readonly maxEntries?: number;
  readonly clock: Clock;
}

/** What a request presents to the user-info endpoint. */
export interface SessionCredential {
  readonly kind: 'bearer' | 'cookie';
  /** The bearer token or the cookie value. */
  readonly value: string;
}

export interface UserinfoClient {
  /** Looks the caller up (cached); a bearer the endpoint refuses is invalid, a refused cookie is anonymous. */
  lookup(credential: SessionCredential): Promise<JwtOutcome>;
  close(): Promise<void>;
}

interface Answer {
  readonly statusCode: number;
  readonly body: unknown;
}

const ABSENT: JwtOutcome = Object.freeze({ status: 'absent' });

function read(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || FORBIDDEN_KEYS.has(key) || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

const stringList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : [];

/**
 * Mia-style opaque sessions (gateway.md §2, `auth.userinfo`): the caller's bearer token or session cookie is
 * sent to the user-info endpoint through undici (a keep-alive pool, an explicit timeout on the Clock port),
 * and its JSON answer becomes the identity: user id, groups, permissions and user properties. Answers are
 * cached per token or cookie for `cacheFor` and concurrent look-ups of one credential share one call; an
 * outage is never cached.
 */
export function createUserinfoClient(options: UserinfoOptions): UserinfoClient {
  const url = new URL(options.url);
  const timeoutMs = options.timeout ?? 5_000;
  const client = createUpstreamClient({ url: url.origin, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connectTimeout: timeoutMs });
  const path = url.pathname + url.search;
  const cacheFor = options.cacheFor ?? 30_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const userIdField = options.userIdField ?? 'sub';
  const groupsField = options.groupsField ?? 'groups';
  const permissionsField = options.permissionsField ?? 'permissions';
  const propertyFields: [string, string][] | undefined = Array.isArray(options.propertyFields)
    ? options.propertyFields.map((f: string) => [f.split('.').pop()!, f])
    : options.propertyFields === undefined
      ? undefined
      : Object.entries(options.propertyFields);
  const deadline = createTimeout({ ms: timeoutMs, clock: options.clock, name: 'the user-info endpoint' });
  const cache = new Map<string, { readonly outcome: JwtOutcome; readonly until: number }>();
  const pending = new Map<string, Promise<JwtOutcome>>();

  const toIdentity = (body: unknown): JwtOutcome => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return { status: 'unavailable', reason: 'the user-info endpoint answered something that is not a JSON object' };
    const userId = read(body, userIdField);
    const properties: Record<string, unknown> = {};
    const fields = propertyFields ?? Object.keys(body).filter((k) => k !== groupsField && k !== permissionsField).map((k): [string, string] => [k, k]);
    for (const [name, field] of fields) {
      const value = read(body, field);
      if (value !== undefined && !FORBIDDEN_KEYS.has(name)) properties[name] = value;
    }
    return {
      status: 'valid',
      ...(typeof userId === 'string' || typeof userId === 'number' ? { userId: String(userId) } : {}),
      groups: stringList(read(body, groupsField)),
      permissions: stringList(read(body, permissionsField)),
      properties,
    };
  };

  const call = async (credential: SessionCredential): Promise<JwtOutcome> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (credential.kind === 'bearer') headers.authorization = `Bearer ${credential.value}`;
    else headers.cookie = `${options.cookie!}=${credential.value}`;
    const request: Call<Answer> = (ctx) =>
      sendUpstream(client, { method: 'GET', path, headers }, ctx.signal, 'the user-info endpoint', async (response) => {
        const text = await response.body.text();
        let body: unknown = null;
        try {
          body = text === '' ? null : JSON.parse(text);
        } catch {
          // not JSON: judged below by status and shape
        }
        return { statusCode: response.statusCode, body };
      });
    let answer: Answer;
    try {
      answer = await deadline(request)({ method: 'GET' });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { status: 'unavailable', reason: `the user-info endpoint cannot be reached: ${reason}` };
    }
    if (answer.statusCode === 401 || answer.statusCode === 403) {
      // An expired session cookie on a public page is an anonymous visit; a refused bearer token is bad credentials.
      return credential.kind === 'cookie' ? ABSENT : { status: 'invalid', reason: 'the session token is not valid' };
    }
    if (answer.statusCode !== 200) return { status: 'unavailable', reason: `the user-info endpoint answered ${answer.statusCode}` };
    return toIdentity(answer.body);
  };

  return {
    lookup(credential) {
      const key = `${credential.kind}:${credential.value}`;
      const now = options.clock.now();
      const hit = cache.get(key);
      if (hit !== undefined) {
        if (hit.until > now) return Promise.resolve(hit.outcome);
        cache.delete(key);
      }
      let inflight = pending.get(key);
      if (inflight) return inflight;
      inflight = call(credential).then((outcome) => {
        pending.delete(key);
        if (outcome.status !== 'unavailable' && cacheFor > 0) {
          if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
          cache.set(key, { outcome, until: options.clock.now() + cacheFor });
        }
        return outcome;
      });
      pending.set(key, inflight);
      return inflight;
    },
    close: () => client.close(),
  };
}
