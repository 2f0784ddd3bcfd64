import { MiaRunError } from '../../errors.js';
import type { AclSubject } from '../../expressions/acl/index.js';
import type { Credentials } from './authenticate.js';
import { aclSubject, type Identity } from './identity.js';

/** What an endpoint (or one of its `routes:` overrides) demands (gateway.md §1-2). */
export interface AccessRule {
  /** `false` (default): a logged-in user is required. */
  readonly public: boolean;
  /** An API key is required (also implied by an ACL that reads `clientType`). */
  readonly secreted: boolean;
  /** Compiled ACL expression, if any. */
  readonly acl?: (subject: AclSubject) => boolean;
}

export type Decision =
  | { readonly allowed: true; readonly identity: Identity }
  | {
      readonly allowed: false;
      readonly error: MiaRunError;
      /** Value for the `WWW-Authenticate` header of a 401. */
      readonly wwwAuthenticate?: string;
    };

export interface DecideOptions {
  /** The request came in on the backoffice listener. */
  readonly isBackoffice: boolean;
  /** Realm named in `WWW-Authenticate`; default `mia-run`. */
  readonly realm?: string;
}

const quote = (s: string): string => `"${s.replace(/["\\]/g, '')}"`;
const DEFAULT_REALM = `realm=${quote('mia-run')}`;
const realmOf = (options: DecideOptions): string => (options.realm === undefined ? DEFAULT_REALM : `realm=${quote(options.realm)}`);
// Shared by every anonymous identity; frozen, since identities are read-only.
const NONE: readonly string[] = Object.freeze([]);
const NO_PROPERTIES: Readonly<Record<string, unknown>> = Object.freeze({});

function deny(code: 'MR_GW_UNAUTHORIZED' | 'MR_GW_FORBIDDEN', message: string, wwwAuthenticate?: string): Decision {
  return wwwAuthenticate === undefined
    ? { allowed: false, error: new MiaRunError(code, message) }
    : { allowed: false, error: new MiaRunError(code, message), wwwAuthenticate };
}

/**
 * The access decision (gateway.md §2): a wrong client key → 403 on every route; a bad or expired token →
 * 401 (RFC 6750 `error="invalid_token"`); no user on a non-public endpoint, or no key on a secreted one →
 * 401; ACL false → 403 for a known caller, 401 for an anonymous one (logging in might help). `public`
 * endpoints still receive the identity when the caller sent valid credentials.
 */
export function decide(rule: AccessRule, credentials: Credentials, options: DecideOptions): Decision {
  const { apiKey, jwt, forwarded } = credentials;
  if (apiKey.status === 'invalid') return deny('MR_GW_FORBIDDEN', 'the client key is not valid');
  if (jwt.status === 'invalid') {
    return deny('MR_GW_UNAUTHORIZED', jwt.reason, `Bearer ${realmOf(options)}, error="invalid_token", error_description=${quote(jwt.reason)}`);
  }
  if (jwt.status === 'unavailable') {
    return { allowed: false, error: new MiaRunError('MR_GW_UPSTREAM_UNAVAILABLE', jwt.reason, { hint: 'check auth.jwt.jwksUrl or auth.userinfo.url' }) };
  }

  // The identity is built in one literal per case (no spreads): this runs on every request.
  const key = apiKey.status === 'valid' ? apiKey : undefined;
  let identity: Identity;
  let loggedIn = true;
  if (jwt.status === 'valid') {
    const { userId, groups, permissions, properties } = jwt;
    identity =
      userId === undefined
        ? key === undefined
          ? { groups, permissions, properties, isBackoffice: options.isBackoffice }
          : { groups, permissions, properties, isBackoffice: options.isBackoffice, clientType: key.clientType, clientKeyId: key.keyId }
        : key === undefined
          ? { userId, groups, permissions, properties, isBackoffice: options.isBackoffice }
          : { userId, groups, permissions, properties, isBackoffice: options.isBackoffice, clientType: key.clientType, clientKeyId: key.keyId };
  } else if (forwarded) {
    identity = { ...forwarded, isBackoffice: options.isBackoffice || forwarded.isBackoffice };
    if (key !== undefined) identity = { ...identity, clientType: key.clientType, clientKeyId: key.keyId };
  } else {
    identity =
      key === undefined
        ? { groups: NONE, permissions: NONE, properties: NO_PROPERTIES, isBackoffice: options.isBackoffice }
        : { groups: NONE, permissions: NONE, properties: NO_PROPERTIES, isBackoffice: options.isBackoffice, clientType: key.clientType, clientKeyId: key.keyId };
    loggedIn = false;
  }

  if (rule.secreted && identity.clientType === undefined) {
    return deny('MR_GW_UNAUTHORIZED', 'this endpoint needs a client key', `ApiKey ${realmOf(options)}`);
  }
  if (!rule.public && !loggedIn) return deny('MR_GW_UNAUTHORIZED', 'this endpoint needs a logged-in user', `Bearer ${realmOf(options)}`);
  if (rule.acl && !rule.acl(aclSubject(identity))) {
    return loggedIn
      ? deny('MR_GW_FORBIDDEN', 'the caller is not allowed by the endpoint ACL')
      : deny('MR_GW_UNAUTHORIZED', 'the endpoint ACL needs a logged-in user', `Bearer ${realmOf(options)}`);
  }
  return { allowed: true, identity };
}
