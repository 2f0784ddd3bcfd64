/**
 * The gateway's sections of the descriptor (gateway.md): `auth` and `endpoints`. `schemas/project.schema.json`
 * is the truth for spelling; these types mirror it. Durations and sizes written inline in an endpoint stay as
 * written (`2s`, `1mb`) and are read with `src/config/units.ts` by the gateway.
 */

/** A duration as written: milliseconds, or a string with a unit (`250ms`, `2s`). */
export type DurationValue = number | string;
/** A size as written: bytes, or a string with a unit (`512kb`, `1mb`). */
export type SizeValue = number | string;

export interface ApiKeyDefinition {
  readonly key: string;
  readonly clientType: string;
}

export interface JwtDefinition {
  /** HS256 shared secret (exclusive with `jwksUrl`). */
  readonly secret?: string;
  /** RS256/ES256 keys published as a JWKS (cached, refreshed on an unknown `kid`). */
  readonly jwksUrl?: string;
  readonly issuer?: string | readonly string[];
  readonly audience?: string | readonly string[];
  readonly algorithms?: readonly string[];
  /** Seconds of tolerated clock difference; default 30. */
  readonly clockSkew?: number;
  readonly userIdClaim?: string;
  readonly groupsClaim?: string;
  readonly permissionsClaim?: string;
  readonly propertyClaims?: readonly string[] | Readonly<Record<string, string>>;
  readonly jwksCacheMaxAge?: DurationValue;
}

/** Mia-style opaque sessions: the caller's bearer token or session cookie is looked up at a user-info URL. */
export interface UserinfoDefinition {
  /** The user-info endpoint (Mia's authorization service `USERINFO_URL`), called with GET. */
  readonly url: string;
  /** Session cookie sent on to the user-info endpoint; without it only bearer tokens are looked up. */
  readonly cookie?: string;
  /** Field of the answer holding the user id (dotted path); default `sub`. */
  readonly userIdField?: string;
  /** Field holding the groups (a list or a space/comma separated string); default `groups`. */
  readonly groupsField?: string;
  /** Field holding the permissions; default `permissions`. */
  readonly permissionsField?: string;
  /** Fields copied into the user properties (a list of paths, or `{ property: path }`); default every top-level field but groups and permissions. */
  readonly propertyFields?: readonly string[] | Readonly<Record<string, string>>;
  /** How long an answer is reused for one token or cookie (default 30s; 0 disables). */
  readonly cacheFor?: DurationValue;
  /** Time allowed for one call (default 5s). */
  readonly timeout?: DurationValue;
}

export interface AuthConfig {
  readonly apiKeys?: readonly ApiKeyDefinition[];
  readonly jwt?: JwtDefinition;
  readonly userinfo?: UserinfoDefinition;
}

/** The in-process kinds a target can name, and the `upstream` kind. */
export const IN_PROCESS_KINDS = ['collection', 'view', 'projection', 'saga', 'aggregate'] as const;
export type InProcessKind = (typeof IN_PROCESS_KINDS)[number];
export type TargetKind = InProcessKind | 'upstream';

/** Exactly one of the kind keys is set (the schema enforces it). */
export type TargetRef = { readonly [K in TargetKind]?: string };

export interface EndpointTarget extends TargetRef {
  /** Mia's `pathRewrite`: replaces the base path on the way to an upstream. */
  readonly rewrite?: string;
}

/** Access settings an endpoint declares, and that a `routes:` entry may override for one verb and path. */
export interface AccessSettings {
  readonly public?: boolean;
  readonly secreted?: boolean;
  readonly acl?: string;
}

/** `acl_rows` / `acl_read_columns` / `acl_write_columns` for CRUD targets; `{userId}` in row values is replaced. */
export interface CrudAclDefinition {
  readonly rows?: Readonly<Record<string, unknown>>;
  readonly readColumns?: readonly string[];
  readonly writeColumns?: readonly string[];
}

export interface ComposeCallTarget extends TargetRef {
  /** Path under the target (`/by-order/{orderId}`); placeholders read path params and earlier results. */
  readonly path?: string;
  /** Document id under an in-process target: shorthand for `path: /{id}`. */
  readonly id?: string;
  /** Default GET. */
  readonly method?: string;
}

export interface ComposeCallDefinition {
  readonly name: string;
  readonly call: ComposeCallTarget;
  /** A failing optional call gives a partial answer instead of an error. */
  readonly optional?: boolean;
  readonly timeout?: DurationValue;
  /** Key of this call's result in the answer; default `name`. */
  readonly as?: string;
  /** Merge the result's fields into the top level instead of nesting it. */
  readonly flatten?: boolean;
  /** Keep only these fields of the result (allow list). */
  readonly fields?: readonly string[];
  /** Drop these fields of the result (deny list), after `fields`. */
  readonly omit?: readonly string[];
}

export type StranglerMode = 'serve' | 'split' | 'shadow';

export interface StranglerRouteDefinition {
  /** A path under the endpoint; a trailing `*` matches any rest. */
  readonly path: string;
  readonly to: EndpointTarget;
  readonly mode: StranglerMode;
  /** `split`: share of traffic sent to the new target (a percentage). */
  readonly weight?: number | string;
  /** `split`: what keeps one caller on one side. */
  readonly stickyBy?: 'user' | 'client' | 'cookie';
  /** Cookie read with `stickyBy: cookie`; default `mia_route`. */
  readonly cookie?: string;
  /** `shadow`: JSON fields (dotted paths) ignored when comparing answers. */
  readonly ignoreFields?: readonly string[];
  /** `shadow`: response headers compared (default none: only status and body). */
  readonly compareHeaders?: readonly string[];
}

export interface StranglerDefinition {
  /** The upstream that answers everything no route claims. */
  readonly legacy: string;
  readonly routes: readonly StranglerRouteDefinition[];
  /** Diffs kept per route; default 10. */
  readonly sampleSize?: number;
}

/** One decorator hook: an HTTP service (Mia protocol) or in-process code. */
export interface DecoratorHook {
  readonly url?: string;
  readonly upstream?: string;
  readonly path?: string;
  readonly module?: string;
  readonly export?: string;
}

export interface DecoratorsDefinition {
  readonly pre?: readonly DecoratorHook[];
  readonly post?: readonly DecoratorHook[];
  readonly catch?: readonly DecoratorHook[];
}

export type ListenerName = 'application' | 'backoffice';

export interface CorsDefinition {
  readonly origins: readonly string[];
  readonly credentials?: boolean;
}

/** A `routes:` entry: access overrides, and decorators replacing the endpoint's of the kinds it lists. */
export interface RouteSettings extends AccessSettings {
  readonly decorators?: DecoratorsDefinition;
}

export interface EndpointDefinition extends AccessSettings {
  readonly basePath: string;
  readonly description?: string;
  readonly target?: EndpointTarget;
  readonly compose?: readonly ComposeCallDefinition[];
  readonly strangler?: StranglerDefinition;
  readonly crudAcl?: CrudAclDefinition;
  /** Per verb+path overrides, keyed like Mia (`GET/`, `POST/requests`). */
  readonly routes?: Readonly<Record<string, RouteSettings>>;
  /** Policy names (timeouts, retries, breakers, bulkheads) for this endpoint's upstream calls. */
  readonly policies?: readonly string[];
  /** A `policies.rateLimits` name. */
  readonly rateLimit?: string;
  /** A `policies.timeouts` name or a duration. */
  readonly timeout?: DurationValue;
  readonly bodyLimit?: SizeValue;
  /** Endpoint CORS; `false` disables the server-wide setting here. */
  readonly cors?: CorsDefinition | false;
  /** Default both. */
  readonly listeners?: readonly ListenerName[];
  readonly decorators?: DecoratorsDefinition;
}
