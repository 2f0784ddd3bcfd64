import type { AuthConfig } from '../config/sections/gateway.js';
import { parseDuration } from '../config/units.js';
import type { Clock } from '../ports/clock.js';
import {
  createApiKeyAuthenticator,
  createJwtVerifier,
  readIdentityHeaders,
  type Credentials,
  type IdentityHeaderNames,
  type JwtOutcome,
} from './auth/index.js';
import { readCookie } from './auth/api-keys.js';
import { createUserinfoClient, type SessionCredential } from './auth/userinfo.js';

/** The JWT settings minus the descriptor's duration field, which the verifier takes in milliseconds. */
function withoutCacheAge(config: NonNullable<AuthConfig['jwt']>): Omit<NonNullable<AuthConfig['jwt']>, 'jwksCacheMaxAge'> {
  const { jwksCacheMaxAge: _ignored, ...rest } = config;
  return rest;
}

/** The user-info settings minus the descriptor's durations, which the client takes in milliseconds. */
function withoutDurations(config: NonNullable<AuthConfig['userinfo']>): Omit<NonNullable<AuthConfig['userinfo']>, 'cacheFor' | 'timeout'> {
  const { cacheFor: _cache, timeout: _timeout, ...rest } = config;
  return rest;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;
const ABSENT = { status: 'absent' } as const;
const BEARER = /^bearer\s/i;
const BEARER_TOKEN = /^bearer +(\S+)\s*$/i;
/** A compact JWS: three base64url segments. Anything else is an opaque session token. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Reads a request's credentials; `close` releases the user-info pool. */
export type CredentialReader = ((headers: Headers) => Credentials | Promise<Credentials>) & { close(): Promise<void> };

export interface CredentialReaderOptions {
  readonly auth: AuthConfig;
  readonly clock: Clock;
  readonly trustIdentityHeaders: boolean;
  readonly identityNames: IdentityHeaderNames;
  /** Fetch used for the JWKS (tests). */
  readonly fetch?: typeof fetch;
}

/**
 * Reads a request's credentials once per request (gateway.md §2): the client key (synchronous), the
 * bearer token (asynchronous only when one is sent: verified locally when it is a JWT and `auth.jwt` is
 * set, else looked up at `auth.userinfo`, like the `auth.userinfo.cookie` session cookie), and with
 * `server.trustIdentityHeaders` the identity a gateway in front set. An `Authorization` header of another scheme (Basic for a legacy upstream) is
 * not ours to judge and passes through untouched.
 */
export function createCredentialReader(options: CredentialReaderOptions): CredentialReader {
  const { auth } = options;
  const apiKeys = auth.apiKeys && auth.apiKeys.length > 0 ? createApiKeyAuthenticator(auth.apiKeys) : undefined;
  const jwtConfig = auth.jwt;
  const cacheMaxAge = jwtConfig?.jwksCacheMaxAge === undefined ? undefined : parseDuration(jwtConfig.jwksCacheMaxAge);
  const jwt =
    jwtConfig === undefined
      ? undefined
      : createJwtVerifier({
          ...withoutCacheAge(jwtConfig),
          clock: options.clock,
          ...(cacheMaxAge === undefined ? {} : { jwksCacheMaxAge: cacheMaxAge }),
          ...(options.fetch ? { fetch: options.fetch } : {}),
        });

  const userinfoConfig = auth.userinfo;
  const userinfo =
    userinfoConfig === undefined
      ? undefined
      : createUserinfoClient({
          ...withoutDurations(userinfoConfig),
          clock: options.clock,
          ...(userinfoConfig.cacheFor === undefined ? {} : { cacheFor: parseDuration(userinfoConfig.cacheFor) ?? 30_000 }),
          ...(userinfoConfig.timeout === undefined ? {} : { timeout: parseDuration(userinfoConfig.timeout) ?? 5_000 }),
        });
  const sessionCookie = userinfoConfig?.cookie;

  /** What goes to the user-info endpoint: an opaque bearer token (a JWT when no verifier is set), else the session cookie. */
  const sessionOf = (authorization: string | undefined, cookie: string | string[] | undefined): SessionCredential | undefined => {
    if (authorization !== undefined) {
      const token = BEARER_TOKEN.exec(authorization)?.[1];
      return token !== undefined && (jwt === undefined || !JWT_SHAPE.test(token)) ? { kind: 'bearer', value: token } : undefined;
    }
    if (sessionCookie === undefined || cookie === undefined) return undefined;
    const value = readCookie(Array.isArray(cookie) ? cookie.join('; ') : cookie, sessionCookie);
    return value === undefined || value === '' ? undefined : { kind: 'cookie', value };
  };

  const reader = (headers: Headers): Credentials | Promise<Credentials> => {
    const apiKey = apiKeys ? apiKeys(headers) : ABSENT;
    const forwarded = options.trustIdentityHeaders ? readIdentityHeaders(headers as Record<string, string | string[] | undefined>, options.identityNames) : undefined;
    const done = (token: JwtOutcome): Credentials => (forwarded ? { apiKey, jwt: token, forwarded } : { apiKey, jwt: token });
    const authorization = headers.authorization;
    if (Array.isArray(authorization)) return done({ status: 'invalid', reason: 'more than one Authorization header' });
    if (userinfo !== undefined) {
      const session = sessionOf(authorization !== undefined && BEARER.test(authorization) ? authorization : undefined, headers.cookie);
      if (session !== undefined) return userinfo.lookup(session).then(done);
    }
    if (authorization === undefined || jwt === undefined) return done(ABSENT);
    if (!BEARER.test(authorization)) return done(ABSENT);
    return jwt.verify(authorization).then(done);
  };
  return Object.assign(reader, { close: async () => userinfo?.close() });
}
