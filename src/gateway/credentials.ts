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

/** The JWT settings minus the descriptor's duration field, which the verifier takes in milliseconds. */
function withoutCacheAge(config: NonNullable<AuthConfig['jwt']>): Omit<NonNullable<AuthConfig['jwt']>, 'jwksCacheMaxAge'> {
  const { jwksCacheMaxAge: _ignored, ...rest } = config;
  return rest;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;
const ABSENT = { status: 'absent' } as const;
const BEARER = /^bearer\s/i;

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
 * bearer token (asynchronous only when one is sent), and with `server.trustIdentityHeaders` the identity
 * a gateway in front set. An `Authorization` header of another scheme (Basic for a legacy upstream) is
 * not ours to judge and passes through untouched.
 */
export function createCredentialReader(options: CredentialReaderOptions): (headers: Headers) => Credentials | Promise<Credentials> {
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

  return (headers) => {
    const apiKey = apiKeys ? apiKeys(headers) : ABSENT;
    const forwarded = options.trustIdentityHeaders ? readIdentityHeaders(headers as Record<string, string | string[] | undefined>, options.identityNames) : undefined;
    const done = (token: JwtOutcome): Credentials => (forwarded ? { apiKey, jwt: token, forwarded } : { apiKey, jwt: token });
    const authorization = headers.authorization;
    if (authorization === undefined || jwt === undefined) return done(ABSENT);
    if (Array.isArray(authorization)) return done({ status: 'invalid', reason: 'more than one Authorization header' });
    if (!BEARER.test(authorization)) return done(ABSENT);
    return jwt.verify(authorization).then(done);
  };
}
