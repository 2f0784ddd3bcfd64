import type { AclSubject } from '../../expressions/acl/index.js';

/**
 * The caller as the gateway knows it after authentication (gateway.md §2), and the Mia headers that carry
 * it to in-process capabilities and upstreams.
 */
export interface Identity {
  readonly userId?: string;
  readonly groups: readonly string[];
  readonly permissions: readonly string[];
  /** User properties from declared token claims (Mia's `miauserproperties`). */
  readonly properties: Readonly<Record<string, unknown>>;
  /** Client type of a valid client key. */
  readonly clientType?: string;
  /** Non-secret id of the caller's client key (never sent on): what `key: client` rate limits count by. */
  readonly clientKeyId?: string;
  /** True on the backoffice listener. */
  readonly isBackoffice: boolean;
}

/** Names of the identity headers (Mia defaults; `server.userIdHeader` renames the user id header). */
export interface IdentityHeaderNames {
  readonly userId: string;
  readonly groups: string;
  readonly properties: string;
  readonly clientType: string;
  readonly isBackoffice: string;
}

export const DEFAULT_IDENTITY_HEADERS: IdentityHeaderNames = Object.freeze({
  userId: 'miauserid',
  groups: 'miausergroups',
  properties: 'miauserproperties',
  clientType: 'client-type',
  isBackoffice: 'isbackoffice',
});

/** Row and column filters the CRUD reads from the gateway (Mia's authorization service sets them). */
export const ACL_HEADERS: readonly string[] = ['acl_rows', 'acl_read_columns', 'acl_write_columns'];

export const anonymous = (isBackoffice: boolean): Identity => ({ groups: [], permissions: [], properties: {}, isBackoffice });

// Node refuses header values outside latin-1 or with control characters; JSON escapes keep every value legal.
const escapeNonAscii = (json: string): string => json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const HEADER_SAFE = /^[\u0020-\u007e]*$/;
const isEmpty = (object: object): boolean => {
  for (const _key in object) return false;
  return true;
};

/**
 * The identity as Mia headers, ready to set on an in-process request or an upstream call. Groups that
 * cannot travel in a comma list (a comma, a control or non-ASCII character) are left out, never mangled.
 */
export function identityHeaders(identity: Identity, names: IdentityHeaderNames = DEFAULT_IDENTITY_HEADERS): Record<string, string> {
  const headers: Record<string, string> = {};
  if (identity.userId !== undefined && HEADER_SAFE.test(identity.userId)) headers[names.userId] = identity.userId;
  headers[names.groups] = identity.groups.length === 0 ? '' : identity.groups.filter((g) => HEADER_SAFE.test(g) && !g.includes(',')).join(',');
  headers[names.properties] = isEmpty(identity.properties) ? '{}' : escapeNonAscii(JSON.stringify(identity.properties));
  if (identity.clientType !== undefined && HEADER_SAFE.test(identity.clientType)) headers[names.clientType] = identity.clientType;
  headers[names.isBackoffice] = String(identity.isBackoffice);
  return headers;
}

type HeaderBag = Record<string, string | string[] | undefined>;

/**
 * Removes identity and ACL headers that arrived from outside ("a gateway never trusts incoming platform
 * headers", gateway.md §2), in place, unless the deployment trusts a gateway in front of it.
 */
export function stripIdentityHeaders<H extends HeaderBag>(
  headers: H,
  options: { readonly trust: boolean; readonly names?: IdentityHeaderNames },
): H {
  if (options.trust) return headers;
  const banned = identityHeaderSet(options.names);
  for (const key of Object.keys(headers)) if (banned.has(key.toLowerCase())) delete headers[key];
  return headers;
}

/** Lower-case names of every identity and ACL header; build once and test incoming (lower-case) names against it. */
export function identityHeaderSet(names: IdentityHeaderNames = DEFAULT_IDENTITY_HEADERS): ReadonlySet<string> {
  return new Set([...Object.values(names), ...ACL_HEADERS].map((n) => n.toLowerCase()));
}

const single = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? undefined : v);

/** Reads an identity set by a trusted gateway in front (`server.trustIdentityHeaders`); undefined when none. */
export function readIdentityHeaders(headers: HeaderBag, names: IdentityHeaderNames = DEFAULT_IDENTITY_HEADERS): Identity | undefined {
  const userId = single(headers[names.userId]);
  if (userId === undefined || userId === '') return undefined;
  let properties: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(single(headers[names.properties]) ?? '{}');
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) properties = parsed as Record<string, unknown>;
  } catch {
    // A malformed property header from the trusted gateway leaves the properties empty rather than failing the call.
  }
  const groups = (single(headers[names.groups]) ?? '').split(',').map((g) => g.trim()).filter(Boolean);
  const clientType = single(headers[names.clientType]);
  return {
    userId,
    groups,
    permissions: [],
    properties,
    ...(clientType ? { clientType } : {}),
    isBackoffice: single(headers[names.isBackoffice]) === 'true',
  };
}

/** What ACL expressions see of an identity. */
export function aclSubject(identity: Identity): AclSubject {
  const { groups, permissions, properties: user, userId, clientType, isBackoffice } = identity;
  // One literal per shape, no spreads: this runs on every request with an ACL.
  if (userId === undefined) return clientType === undefined ? { groups, permissions, user, isBackoffice } : { groups, permissions, user, clientType, isBackoffice };
  return clientType === undefined ? { groups, permissions, user, userId, isBackoffice } : { groups, permissions, user, userId, clientType, isBackoffice };
}
