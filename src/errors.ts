/**
 * The one registry of error codes (STYLE §5). Every `MiaRunError` carries a stable `code`; its HTTP status,
 * whether retrying can help, and a one-line description live here and nowhere else. `docs/errors.md`
 * documents every code; a test checks both directions.
 */

export interface ErrorCodeSpec {
  /** HTTP status when the error reaches a client; absent for errors that never do (CLI, startup). */
  readonly statusCode?: number;
  /** Whether the same operation may succeed if retried later (connection loss, timeouts, busy backend). */
  readonly retriable: boolean;
  /** What the code means, for docs/errors.md. */
  readonly description: string;
}

const spec = (description: string, statusCode?: number, retriable = false): ErrorCodeSpec =>
  statusCode === undefined ? { description, retriable } : { description, statusCode, retriable };

export const ERROR_CODES = {
  // Descriptor (config pipeline diagnostics)
  MR_CONFIG_READ: spec('The descriptor file (or an included file) cannot be read: missing, a directory, not text, or too large.'),
  MR_CONFIG_YAML: spec('The descriptor is not valid YAML (syntax error, duplicate key, bad indentation).'),
  MR_CONFIG_YAML_LIMIT: spec('The descriptor exceeds a parser safety limit: alias expansion ("billion laughs"), nesting depth or document size.'),
  MR_CONFIG_EMPTY: spec('The descriptor is empty or is not a mapping at the top level.'),
  MR_CONFIG_FORBIDDEN_KEY: spec('A key that could pollute object prototypes (`__proto__`, `constructor`, `prototype`) appears in the descriptor.'),
  MR_CONFIG_INCLUDE: spec('An `include:` entry cannot be loaded, includes itself, or redefines a key already defined elsewhere.'),
  MR_CONFIG_REF: spec('A `collections` entry `{ $ref: file }` is malformed or its file does not hold one collection definition (a JSON or YAML object).'),
  MR_CONFIG_ENV_MISSING: spec('A required environment variable (`${VAR}` or `${VAR:?message}`) is not set.'),
  MR_CONFIG_ENV_SYNTAX: spec('An interpolation expression `${...}` is malformed.'),
  MR_CONFIG_SCHEMA: spec('A value does not match the descriptor schema (wrong type, out of range, bad format).'),
  MR_CONFIG_UNKNOWN_KEY: spec('A key is not part of the descriptor schema at that place.'),
  MR_CONFIG_MISSING_KEY: spec('A required key is missing.'),
  MR_CONFIG_UNKNOWN_REF: spec('A name refers to something that is not declared (a database, topic, policy, upstream, collection, ...).'),
  MR_CONFIG_DUPLICATE: spec('Two declarations use the same name or would serve the same route.'),
  MR_CONFIG_UNSUPPORTED_FEATURE: spec('The descriptor needs a feature the chosen backend does not offer (for example a text index on a store without text search).'),
  MR_CONFIG_INVALID_VALUE: spec('A value is well-typed but not acceptable (an invalid duration, size, expression or state machine).'),
  MR_CONFIG_CODE_HOOK: spec('A code hook `{ module, export }` names a file that does not exist or an export that is not a function.'),
  MR_CONFIG_UNKNOWN_ROLE: spec('`--role` names a role that does not exist.'),
  MR_CONFIG_INVALID: spec('The descriptor has problems (the list of diagnostics says which); nothing was started.'),

  // CLI
  MR_CLI_USAGE: spec('The command line is not valid: unknown command or option, missing argument.'),
  MR_INTERNAL: spec('An unexpected internal error: this is a bug, please report it with the version.', 500),

  // Runtime and HTTP server
  MR_RUNTIME_START: spec('The runtime could not start (a backend or capability failed to start, or the port is in use).'),
  MR_RUNTIME_NOT_READY: spec('A backend or capability is not ready.', 503, true),
  MR_RUNTIME_SHUTTING_DOWN: spec('The server is shutting down and no longer accepts requests.', 503, true),
  MR_HTTP_NOT_FOUND: spec('No route matches the request.', 404),
  MR_HTTP_BAD_REQUEST: spec('The request is malformed (invalid JSON body, bad parameters).', 400),
  MR_HTTP_PAYLOAD_TOO_LARGE: spec('The request body is larger than the configured limit.', 413),
  MR_HTTP_UNSUPPORTED_MEDIA_TYPE: spec('The request body has a content type the route does not accept.', 415),
  MR_HTTP_NOT_ACCEPTABLE: spec('The route cannot answer in any media type the `Accept` header allows.', 406),
  MR_HTTP_METHOD_NOT_ALLOWED: spec('The route exists but not for this HTTP method.', 405),
  MR_HTTP_TIMEOUT: spec('The request took longer than the server allows.', 408, true),

  // DocumentStore port
  MR_STORE_UNAVAILABLE: spec('The document store cannot be reached or refused the operation for a transient reason.', 503, true),
  MR_STORE_DUPLICATE_KEY: spec('A write would create a second document with the same value of a unique index.', 409),
  MR_STORE_INVALID_QUERY: spec('A filter, projection, sort or update is not valid.', 400),
  MR_STORE_INVALID_DOCUMENT: spec('A document cannot be stored (bad `_id`, invalid field names, too large).', 400),
  MR_STORE_WRITE_CONFLICT: spec('A concurrent write touched the same document; retry the operation.', 409, true),
  MR_STORE_UNSUPPORTED: spec('The store adapter does not support this operation or index kind.', 501),
  MR_STORE_CLOSED: spec('The store was closed (the runtime is shutting down).', 503, true),

  // EventBus port
  MR_BUS_UNAVAILABLE: spec('The event bus cannot be reached or refused the operation for a transient reason.', 503, true),
  MR_BUS_UNKNOWN_TOPIC: spec('The topic does not exist on the bus.', 404),
  MR_BUS_INVALID_MESSAGE: spec('A message cannot be published (bad key, value or headers, or too large).', 400),
  MR_BUS_HANDLER_FAILED: spec('A consumer handler failed; the message is retried and then sent to the dead-letter topic.', undefined, true),
  MR_BUS_CLOSED: spec('The bus was closed (the runtime is shutting down).', 503, true),
  MR_BUS_REBALANCING: spec('The consumer group is rebalancing; the operation will be retried.', 503, true),

  // Gateway and resilience
  MR_GW_UNAUTHORIZED: spec('The endpoint needs a logged-in caller and no valid credentials were sent.', 401),
  MR_GW_FORBIDDEN: spec('The caller is authenticated but not allowed (ACL false or wrong client key).', 403),
  MR_GW_UPSTREAM_UNAVAILABLE: spec('The upstream could not be reached or reset the connection.', 502, true),
  MR_GW_UPSTREAM_TIMEOUT: spec('The upstream did not answer in time.', 504, true),
  MR_GW_CIRCUIT_OPEN: spec('The circuit breaker for the upstream is open; the call was not attempted.', 503, true),
  MR_GW_BULKHEAD_FULL: spec('Too many concurrent calls to the upstream.', 503, true),
  MR_GW_RATE_LIMITED: spec('The caller exceeded its rate limit.', 429, true),
  MR_GW_COMPOSE_FAILED: spec('A required call of a composed (BFF) endpoint failed.', 502, true),
  MR_GW_DECORATOR_FAILED: spec('A decorator hook answered with an unexpected status or body.', 502),

  // CRUD (bodies keep the Mia CRUD Service shapes; see specs/crud-api.md §7)
  MR_CRUD_NOT_FOUND: spec('No document matches the id and filters (state, `_q`, ACL rows).', 404),
  MR_CRUD_BAD_REQUEST: spec('The request does not match the collection schema or uses an unknown field or operator.', 400),
  MR_CRUD_DUPLICATE_KEY: spec('The write would duplicate a unique key; the message names the fields.', 409),
  MR_CRUD_ILLEGAL_TRANSITION: spec('The requested `__STATE__` transition is not allowed.', 400),
  MR_CRUD_UNSAFE_REGEX: spec('A `$regex` pattern is too long or could backtrack catastrophically.', 400),
  MR_CRUD_UNSUPPORTED_FILE: spec('The import file type is not supported.', 415),
  MR_CRUD_NOT_ACCEPTABLE: spec('The export or schemas route cannot answer in the requested media type.', 406),

  // Sagas
  MR_SAGA_NOT_FOUND: spec('No saga with that id.', 404),
  MR_SAGA_UNEXPECTED_EVENT: spec('The event does not fit the current state of the saga.', 409),
  MR_SAGA_INVALID_EVENT: spec('The event payload does not match the transition\'s payload schema, or the message shape is wrong.', 400),
  MR_SAGA_COMMAND_FAILED: spec('A command could not be delivered on its channel after retries.', 502, true),
  MR_SAGA_CONCURRENT_UPDATE: spec('Another event changed the saga at the same time; the event is retried.', 409, true),

  // Fast Data (projections and single views)
  MR_FD_MISSING_KEY: spec('The primary key of a CDC message cannot be resolved or is null.'),
  MR_FD_CAST_FAILED: spec('A cast failed on a required or primary-key field.'),
  MR_FD_ADAPTER_FAILED: spec('The custom message adapter threw.'),
  MR_FD_INVALID_MESSAGE: spec('A CDC message is not in the format declared for its system of record.'),
  MR_FD_TRUNCATE_SKIPPED: spec('A truncate operation was skipped (counted, never applied).'),
  MR_FD_AGGREGATION_FAILED: spec('A single view could not be computed from its projections.', undefined, true),
  MR_FD_SV_TIMEOUT: spec('A single-view aggregation exceeded the view\'s `timeout` (SINGLE_VIEW_AGGREGATION_MAX_TIME).', undefined, true),
  MR_FD_UNSUPPORTED_TRIGGER: spec('An sv-trigger message of a type mia-run does not implement (`patch`, Mia\'s SV Patch); it is dead-lettered.'),
  MR_FD_INVALID_CHANGE_EVENT: spec('A consumed pr-update, sv-update or sv-trigger message is not in any known version of its format.'),
  MR_FD_NOT_FOUND: spec('No projection record or single view document with that id.', 404),
  MR_FD_INVALID_QUERY: spec('A projection or single view read has an invalid _q, _st, _s, _l or _sk.', 400),
  MR_FD_KEY_HELD: spec('A message of a key held after an earlier dead letter (`deadLetter.mode: holdKey`); it is dead-lettered until the key is redriven.'),
  MR_FD_UNKNOWN_NAME: spec('A fast-data operation names a projection, single view or dead-letter topic the descriptor does not declare.', 404),
  MR_FD_OPERATION_UNAVAILABLE: spec('A fast-data operation needs something this process or command does not have (load and replay need the process consuming the projection).', 409),

  // Event sourcing
  MR_ES_VERSION_CONFLICT: spec('The expected version does not match the aggregate\'s current version.', 409),
  MR_ES_INVALID_COMMAND: spec('The command body does not match the event schema.', 400),
  MR_ES_NOT_FOUND: spec('No aggregate with that id.', 404),
  MR_ES_REJECTED: spec('The command handler rejected the command.', 422),
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface MiaRunErrorOptions {
  readonly hint?: string;
  readonly cause?: unknown;
  /** Overrides the code's default status (rarely needed: a contract dictates another status). */
  readonly statusCode?: number;
  /** Overrides the code's default retriable flag (for example a store error known to be permanent). */
  readonly retriable?: boolean;
  /** Extra machine-readable details (index name, key, topic, ...). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The one error type of mia-run: a stable code, an HTTP status where it applies, and whether retrying helps. */
export class MiaRunError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number | undefined;
  readonly retriable: boolean;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: MiaRunErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const def: ErrorCodeSpec = ERROR_CODES[code];
    this.name = 'MiaRunError';
    this.code = code;
    this.statusCode = options.statusCode ?? def.statusCode;
    this.retriable = options.retriable ?? def.retriable;
    this.hint = options.hint;
    this.details = options.details;
  }
}

export function isMiaRunError(value: unknown): value is MiaRunError {
  return value instanceof MiaRunError;
}

/** True when retrying the failed operation may succeed. Unknown errors are not retriable. */
export function isRetriable(value: unknown): boolean {
  return value instanceof MiaRunError && value.retriable;
}
