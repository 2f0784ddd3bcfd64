/** Caller identity for the gateway: client keys, JWTs, identity headers and the access decision (gateway.md §2). */
export { createApiKeyAuthenticator, readCookie, type ApiKeyConfig, type ApiKeyOutcome, type ApiKeyOptions } from './api-keys.js';
export { createJwtVerifier, type JwtOptions, type JwtOutcome, type JwtVerifier } from './jwt.js';
export {
  ACL_HEADERS,
  DEFAULT_IDENTITY_HEADERS,
  aclSubject,
  anonymous,
  identityHeaders,
  identityHeaderSet,
  readIdentityHeaders,
  stripIdentityHeaders,
  type Identity,
  type IdentityHeaderNames,
} from './identity.js';
export { createAuthenticator, type AuthenticatorOptions, type Credentials } from './authenticate.js';
export { decide, type AccessRule, type Decision, type DecideOptions } from './decide.js';
