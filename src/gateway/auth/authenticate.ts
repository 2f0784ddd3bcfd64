import type { ApiKeyOutcome } from './api-keys.js';
import type { JwtOutcome, JwtVerifier } from './jwt.js';
import { readIdentityHeaders, type Identity, type IdentityHeaderNames } from './identity.js';

/** Everything the caller presented, checked but not yet judged against an endpoint's rule. */
export interface Credentials {
  readonly apiKey: ApiKeyOutcome;
  readonly jwt: JwtOutcome;
  /** Identity set by a trusted gateway in front (only with `server.trustIdentityHeaders`). */
  readonly forwarded?: Identity;
}

export interface AuthenticatorOptions {
  readonly apiKeys?: (headers: Readonly<Record<string, string | string[] | undefined>>) => ApiKeyOutcome;
  readonly jwt?: JwtVerifier;
  /** Read `miauserid` & co. as the identity (a trusted gateway set them); default false. */
  readonly trustIdentityHeaders?: boolean;
  readonly identityHeaderNames?: IdentityHeaderNames;
}

/**
 * Checks the credentials of a request once, before routing decides what the endpoint demands. The
 * headers must be the incoming ones (with identity headers already stripped unless trusted).
 */
export function createAuthenticator(options: AuthenticatorOptions): (headers: Readonly<Record<string, string | string[] | undefined>>) => Promise<Credentials> {
  return async (headers) => {
    const apiKey = options.apiKeys ? options.apiKeys(headers) : ({ status: 'absent' } as const);
    const authorization = headers.authorization;
    let jwt: JwtOutcome = { status: 'absent' };
    if (Array.isArray(authorization)) jwt = { status: 'invalid', reason: 'more than one Authorization header' };
    else if (authorization !== undefined) {
      jwt = options.jwt ? await options.jwt.verify(authorization) : { status: 'invalid', reason: 'this server accepts no bearer tokens' };
    }
    const forwarded = options.trustIdentityHeaders ? readIdentityHeaders(headers, options.identityHeaderNames) : undefined;
    return forwarded ? { apiKey, jwt, forwarded } : { apiKey, jwt };
  };
}
