import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { JwtDefinition } from '../../config/sections/gateway.js';
import type { Clock } from '../../ports/clock.js';
import { FORBIDDEN_KEYS } from '../../expressions/acl/parser.js';

/**
 * `auth.jwt` of the descriptor (documented in `JwtDefinition`), after normalization: durations in ms, plus
 * what the runtime supplies. Defaults: HS256 with a secret, RS256/ES256 (and kin) with a JWKS; 30 s clock
 * skew; claims `sub`, `groups`, `permissions` (dotted paths reach nested claims); JWKS cached 10 min.
 */
export interface JwtOptions extends Omit<JwtDefinition, 'jwksCacheMaxAge'> {
  /** JWKS cache lifetime in ms (default 10 min); a token with an unknown `kid` refetches sooner. */
  readonly jwksCacheMaxAge?: number;
  /** Minimum ms between two JWKS fetches (default 30 s), so bad tokens cannot hammer the IdP. */
  readonly jwksCooldown?: number;
  /** ms allowed for a JWKS fetch; default 5 s. */
  readonly jwksTimeout?: number;
  readonly clock: Clock;
  /** Fetch used for the JWKS; default the global (undici) fetch. */
  readonly fetch?: typeof fetch;
}

export type JwtOutcome =
  | { readonly status: 'absent' }
  | {
      readonly status: 'valid';
      readonly userId?: string;
      readonly groups: readonly string[];
      readonly permissions: readonly string[];
      readonly properties: Readonly<Record<string, unknown>>;
    }
  /** The token is bad (signature, expiry, issuer, audience, shape): 401 with `error="invalid_token"`. */
  | { readonly status: 'invalid'; readonly reason: string }
  /** The token could not be checked (JWKS unreachable): not the caller's fault. */
  | { readonly status: 'unavailable'; readonly reason: string };

export interface JwtVerifier {
  /** Verifies the bearer token of an `Authorization` header value (absent when there is none). */
  verify(authorization: string | undefined): Promise<JwtOutcome>;
}

/** Own-property walk of a dotted claim path (`realm_access.roles`). */
function claim(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || FORBIDDEN_KEYS.has(key) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function stringList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return [];
}

function describe(error: unknown): JwtOutcome {
  if (error instanceof errors.JWTExpired) return { status: 'invalid', reason: 'the token has expired' };
  if (error instanceof errors.JWTClaimValidationFailed) return { status: 'invalid', reason: `the token's "${error.claim}" claim is not acceptable` };
  if (error instanceof errors.JWSSignatureVerificationFailed) return { status: 'invalid', reason: 'the token signature is not valid' };
  if (error instanceof errors.JWKSNoMatchingKey) return { status: 'invalid', reason: 'the token is signed with an unknown key' };
  if (error instanceof errors.JOSEAlgNotAllowed) return { status: 'invalid', reason: 'the token algorithm is not allowed' };
  // jose throws a plain JOSEError (not a subclass) for a JWKS answer that is not 200 JSON, and fetch a
  // TypeError when the JWKS host cannot be reached.
  const plainJose = error instanceof errors.JOSEError && error.constructor === errors.JOSEError;
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || plainJose || error instanceof TypeError) {
    return { status: 'unavailable', reason: 'the signing keys (JWKS) cannot be fetched' };
  }
  return { status: 'invalid', reason: 'the token is malformed' };
}

/**
 * Bearer token verification with jose (gateway.md §2): HS256 with a shared secret, or keys from a JWKS URL
 * (cached; an unknown `kid` triggers a refetch, so the IdP can rotate keys without a restart). Checks
 * `iss`, `aud`, `exp`/`nbf` against the Clock port with a small skew, then maps claims to user id, groups,
 * permissions and properties.
 */
export function createJwtVerifier(options: JwtOptions): JwtVerifier {
  if ((options.secret === undefined) === (options.jwksUrl === undefined)) {
    throw new TypeError('auth.jwt needs exactly one of secret or jwksUrl');
  }
  let key: Uint8Array | JWTVerifyGetKey;
  if (options.secret !== undefined) {
    key = new TextEncoder().encode(options.secret);
  } else {
    key = createRemoteJWKSet(new URL(options.jwksUrl!), {
      cacheMaxAge: options.jwksCacheMaxAge ?? 600_000,
      cooldownDuration: options.jwksCooldown ?? 30_000,
      timeoutDuration: options.jwksTimeout ?? 5_000,
      ...(options.fetch ? { [customFetch]: options.fetch } : {}),
    });
  }
  const algorithms = [...(options.algorithms ?? (options.secret !== undefined ? ['HS256'] : ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384']))];
  const userIdClaim = options.userIdClaim ?? 'sub';
  const groupsClaim = options.groupsClaim ?? 'groups';
  const permissionsClaim = options.permissionsClaim ?? 'permissions';
  const propertyClaims: [string, string][] = Array.isArray(options.propertyClaims)
    ? options.propertyClaims.map((c: string) => [c.split('.').pop()!, c])
    : Object.entries(options.propertyClaims ?? {});

  return {
    async verify(authorization) {
      if (authorization === undefined) return { status: 'absent' };
      const match = /^Bearer +([A-Za-z0-9\-_.]+)\s*$/i.exec(authorization);
      if (!match) return { status: 'invalid', reason: 'the Authorization header is not a Bearer token' };
      let payload: JWTPayload;
      try {
        const verifyOptions = {
          algorithms,
          clockTolerance: options.clockSkew ?? 30,
          currentDate: new Date(options.clock.now()),
          ...(options.issuer === undefined ? {} : { issuer: options.issuer as string | string[] }),
          ...(options.audience === undefined ? {} : { audience: options.audience as string | string[] }),
        };
        // Two calls only so TypeScript can pick jose's overload for each key kind.
        ({ payload } = typeof key === 'function' ? await jwtVerify(match[1]!, key, verifyOptions) : await jwtVerify(match[1]!, key, verifyOptions));
      } catch (error) {
        return describe(error);
      }
      const userId = claim(payload, userIdClaim);
      const properties: Record<string, unknown> = {};
      for (const [name, path] of propertyClaims) {
        const value = claim(payload, path);
        if (value !== undefined && !FORBIDDEN_KEYS.has(name)) properties[name] = value;
      }
      return {
        status: 'valid',
        ...(typeof userId === 'string' || typeof userId === 'number' ? { userId: String(userId) } : {}),
        groups: stringList(claim(payload, groupsClaim)),
        permissions: stringList(claim(payload, permissionsClaim)),
        properties,
      };
    },
  };
}
