import { hash, timingSafeEqual } from 'node:crypto';

/** One Mia client key (`auth.apiKeys[]`). */
export interface ApiKeyConfig {
  readonly key: string;
  readonly clientType: string;
}

export type ApiKeyOutcome =
  | { readonly status: 'absent' }
  /** `keyId`: a stable, non-secret id of the key (a digest prefix): what `key: client` rate limits count by. */
  | { readonly status: 'valid'; readonly clientType: string; readonly keyId: string }
  | { readonly status: 'invalid' };

export interface ApiKeyOptions {
  /** Headers checked in order; Mia's defaults. */
  readonly headers?: readonly string[];
  readonly cookie?: string;
}

// One-shot hash: no Hash object per request (several times cheaper than createHash().update().digest()).
const digest = (value: string): Buffer => hash('sha256', value, 'buffer');

const ABSENT: ApiKeyOutcome = Object.freeze({ status: 'absent' });
const INVALID: ApiKeyOutcome = Object.freeze({ status: 'invalid' });

/** The value of one cookie from a `Cookie` header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

/**
 * Mia client keys (gateway.md §2): from the `client-key` or `secret` header, else the `mia_client_key`
 * cookie. Keys are compared as SHA-256 digests with `timingSafeEqual`, against every configured key
 * without stopping early, so timing tells nothing about a key or how many there are. A key that is sent
 * but matches nothing is `invalid` (403 on every route, like Mia's Envoy flavour). A key accepted once is
 * then recognised by a Map lookup, without hashing again.
 */
export function createApiKeyAuthenticator(
  keys: readonly ApiKeyConfig[],
  options: ApiKeyOptions = {},
): (headers: Readonly<Record<string, string | string[] | undefined>>) => ApiKeyOutcome {
  const headerNames = options.headers ?? ['client-key', 'secret'];
  const cookieName = options.cookie ?? 'mia_client_key';
  // Keys already accepted once, by value: at most one entry per configured key, never a refused string.
  // Hashing is the costly part of a request with a key; a Map lookup takes time that depends on the presented
  // string's (seeded) hash, and compares contents only on a full hash match, so it leaks nothing usable about
  // a configured key.
  const accepted = new Map<string, ApiKeyOutcome>();
  // Outcomes are built once per key: a request allocates at most the digest.
  const known = keys.map((k) => {
    const hash = digest(k.key);
    return { hash, outcome: Object.freeze({ status: 'valid', clientType: k.clientType, keyId: hash.toString('hex', 0, 8) }) as ApiKeyOutcome };
  });

  return (headers) => {
    let presented: string | string[] | undefined;
    for (const name of headerNames) {
      presented = headers[name];
      if (presented !== undefined) break;
    }
    if (presented === undefined) {
      const cookie = headers.cookie;
      presented = readCookie(Array.isArray(cookie) ? cookie.join('; ') : cookie, cookieName);
    }
    if (presented === undefined) return ABSENT;
    if (Array.isArray(presented) || presented === '') return INVALID; // two keys at once: refuse, do not pick
    const seen = accepted.get(presented);
    if (seen !== undefined) return seen;
    const presentedHash = digest(presented);
    let match: ApiKeyOutcome | undefined;
    for (const k of known) if (timingSafeEqual(presentedHash, k.hash) && match === undefined) match = k.outcome;
    if (match === undefined) return INVALID;
    accepted.set(presented, match);
    return match;
  };
}
