import { createHash, timingSafeEqual } from 'node:crypto';

/** One Mia client key (`auth.apiKeys[]`). */
export interface ApiKeyConfig {
  readonly key: string;
  readonly clientType: string;
}

export type ApiKeyOutcome =
  | { readonly status: 'absent' }
  | { readonly status: 'valid'; readonly clientType: string }
  | { readonly status: 'invalid' };

export interface ApiKeyOptions {
  /** Headers checked in order; Mia's defaults. */
  readonly headers?: readonly string[];
  readonly cookie?: string;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

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
 * but matches nothing is `invalid` (403 on every route, like Mia's Envoy flavour).
 */
export function createApiKeyAuthenticator(
  keys: readonly ApiKeyConfig[],
  options: ApiKeyOptions = {},
): (headers: Readonly<Record<string, string | string[] | undefined>>) => ApiKeyOutcome {
  const headerNames = options.headers ?? ['client-key', 'secret'];
  const cookieName = options.cookie ?? 'mia_client_key';
  const known = keys.map((k) => ({ hash: digest(k.key), clientType: k.clientType }));

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
    if (presented === undefined) return { status: 'absent' };
    if (Array.isArray(presented) || presented === '') return { status: 'invalid' }; // two keys at once: refuse, do not pick
    const hash = digest(presented);
    let match: string | undefined;
    for (const k of known) if (timingSafeEqual(hash, k.hash) && match === undefined) match = k.clientType;
    return match === undefined ? { status: 'invalid' } : { status: 'valid', clientType: match };
  };
}
