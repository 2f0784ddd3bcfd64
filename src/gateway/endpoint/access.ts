import type { AccessSettings, EndpointDefinition } from '../../config/sections/gateway.js';
import { MiaRunError } from '../../errors.js';
import { parseAcl } from '../../expressions/acl/index.js';
import type { AccessRule } from '../auth/index.js';

/** The access rules of one endpoint, compiled once: the endpoint's own, and Mia `routes:` overrides. */
export interface EndpointAccess {
  /** The rule for a method and a path relative to the base path (`/`, `/requests`). */
  ruleFor(method: string, relativePath: string): AccessRule;
  /** True when some `routes:` entry exists (callers can skip computing the relative path otherwise). */
  readonly hasOverrides: boolean;
}

/** Compiles an ACL expression or throws MR_CONFIG_INVALID_VALUE (the config rules report it first, with a position). */
export function compileAcl(text: string, where: string): { evaluate: AccessRule['acl']; usesClientType: boolean } {
  const parsed = parseAcl(text);
  if (!parsed.ok) throw new MiaRunError('MR_CONFIG_INVALID_VALUE', `${where}: invalid ACL expression: ${parsed.message}`);
  return { evaluate: parsed.evaluate, usesClientType: parsed.usesClientType };
}

function toRule(settings: AccessSettings, where: string): AccessRule {
  const acl = settings.acl === undefined ? undefined : compileAcl(settings.acl, where);
  // An ACL that reads clientType makes the endpoint key-secured (gateway.md §2).
  const secreted = settings.secreted === true || acl?.usesClientType === true;
  return acl?.evaluate === undefined ? { public: settings.public === true, secreted } : { public: settings.public === true, secreted, acl: acl.evaluate };
}

/** `/requests/` and `/requests` are the same route; the root stays `/`. */
export const normalizeRoutePath = (path: string): string => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);

/**
 * Builds an endpoint's access rules (gateway.md §1): `public`, `secreted` and `acl` of the endpoint, and for
 * each `routes:` key (`"GET/"`, `"POST/requests"`, an exact verb and path) the same fields overriding the
 * endpoint's, as Mia does.
 */
export function buildAccess(endpoint: Pick<EndpointDefinition, 'public' | 'secreted' | 'acl' | 'routes' | 'basePath'>): EndpointAccess {
  const base: AccessSettings = {
    ...(endpoint.public === undefined ? {} : { public: endpoint.public }),
    ...(endpoint.secreted === undefined ? {} : { secreted: endpoint.secreted }),
    ...(endpoint.acl === undefined ? {} : { acl: endpoint.acl }),
  };
  const fallback = toRule(base, `endpoint ${endpoint.basePath}`);
  const overrides = new Map<string, AccessRule>();
  for (const [key, settings] of Object.entries(endpoint.routes ?? {})) {
    const slash = key.indexOf('/');
    const method = key.slice(0, slash).toUpperCase();
    const path = normalizeRoutePath(key.slice(slash));
    overrides.set(`${method} ${path}`, toRule({ ...base, ...settings }, `endpoint ${endpoint.basePath} route ${key}`));
  }
  if (overrides.size === 0) return { hasOverrides: false, ruleFor: () => fallback };
  return {
    hasOverrides: true,
    ruleFor: (method, relativePath) => overrides.get(`${method} ${normalizeRoutePath(relativePath)}`) ?? fallback,
  };
}

/** Number of path segments of a base path (`/api/:id/x` → 3, `/` → 0). */
export function segmentCount(basePath: string): number {
  return basePath.split('/').filter(Boolean).length;
}

/**
 * Splits a request path (without query) at the end of the first `segments` segments: the prefix the
 * endpoint matched and the rest under it (`/api/orders/1`, 2 → [`/api/orders`, `/1`]).
 */
export function splitPath(path: string, segments: number): [prefix: string, rest: string] {
  let index = 0;
  for (let i = 0; i < segments; i++) {
    const next = path.indexOf('/', index + 1);
    if (next < 0) return [path, '/'];
    index = next;
  }
  return segments === 0 ? ['', path] : [path.slice(0, index), path.slice(index) || '/'];
}
