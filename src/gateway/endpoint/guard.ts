import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { MiaRunError } from '../../errors.js';
import { decide, identityHeaders, identityHeaderSet, type Credentials, type Identity, type IdentityHeaderNames } from '../auth/index.js';
import { splitPath, type EndpointAccess } from './access.js';
import { applyCors, type CorsPolicy } from './cors.js';
import { rateLimitKey, type EndpointRateLimit, type Taken } from '../rate-limit/index.js';

/** What every endpoint of one gateway shares: how credentials are read and how identity travels. */
export interface GuardShared {
  /** Reads the caller's credentials; synchronous unless a bearer token must be verified. */
  readonly authenticate: (headers: FastifyRequest['headers']) => Credentials | Promise<Credentials>;
  readonly trustIdentityHeaders: boolean;
  readonly identityNames: IdentityHeaderNames;
}

export interface GuardOptions {
  readonly shared: GuardShared;
  readonly access: EndpointAccess;
  /** Segments of the base path, to find the path under it for `routes:` overrides. */
  readonly baseSegments: number;
  readonly listeners: { readonly application: boolean; readonly backoffice: boolean };
  readonly cors?: CorsPolicy;
  readonly rateLimit?: EndpointRateLimit;
  /** Bytes; a declared `content-length` above it is refused with 413 before anything is read. */
  readonly bodyLimit: number;
  /** Extra headers for the target, from the identity (CRUD `acl_*`). */
  readonly extraHeaders?: (identity: Identity) => Readonly<Record<string, string>>;
}

const IDENTITY = Symbol('mia-run.gateway.identity');
type WithIdentity = FastifyRequest & { [IDENTITY]?: Identity };

/** The caller's identity as the endpoint guard established it (anonymous when the guard did not run). */
export function identityOf(request: FastifyRequest): Identity | undefined {
  return (request as WithIdentity)[IDENTITY];
}

/** Sets `RateLimit-*` on the answer; the 429 error when the caller is over its limit. */
function limited(info: Taken, reply: FastifyReply): MiaRunError | undefined {
  reply.raw.setHeader('ratelimit-limit', String(info.limit));
  reply.raw.setHeader('ratelimit-remaining', String(info.remaining));
  reply.raw.setHeader('ratelimit-reset', String(info.reset));
  if (info.allowed) return undefined;
  return new MiaRunError('MR_GW_RATE_LIMITED', `rate limit of ${info.limit} requests exceeded`, { details: { retryAfter: info.retryAfter } });
}

/**
 * The one `onRequest` hook of an endpoint, built once at start-up (STYLE §7): listener check, CORS,
 * removal of identity headers sent from outside, authentication and the access decision (gateway.md §2),
 * rate limit (429 with `Retry-After` and `RateLimit-*`), declared body size (413); then the identity is
 * written as Mia headers on the request, so in-process targets and upstreams read the same thing.
 * Callback style so the common case (no bearer token) completes without a promise.
 */
export function createGuard(options: GuardOptions): onRequestHookHandler {
  const { shared, access } = options;
  const banned = identityHeaderSet(shared.identityNames);
  const notHere = new MiaRunError('MR_HTTP_NOT_FOUND', 'this endpoint is not exposed on this listener');

  const pass = (request: FastifyRequest, identity: Identity): undefined => {
    (request as WithIdentity)[IDENTITY] = identity;
    const headers = request.raw.headers;
    Object.assign(headers, identityHeaders(identity, shared.identityNames));
    if (options.extraHeaders) Object.assign(headers, options.extraHeaders(identity));
    return undefined;
  };

  const admit = (request: FastifyRequest, reply: FastifyReply, credentials: Credentials, isBackoffice: boolean): MiaRunError | undefined | Promise<MiaRunError | undefined> => {
    const relative = access.hasOverrides ? splitPath(request.url.split('?', 1)[0]!, options.baseSegments)[1] : '/';
    const decision = decide(access.ruleFor(request.method, relative), credentials, { isBackoffice });
    if (!decision.allowed) {
      if (decision.wwwAuthenticate !== undefined) reply.raw.setHeader('www-authenticate', decision.wwwAuthenticate);
      return decision.error;
    }
    const { identity } = decision;
    if (options.rateLimit) {
      const taken = options.rateLimit.take(rateLimitKey(options.rateLimit.key, identity, request.ip));
      // A limit shared through a store answers asynchronously; the in-process one does not.
      if (taken instanceof Promise) return taken.then((info) => limited(info, reply) ?? pass(request, identity));
      const refused = limited(taken, reply);
      if (refused) return refused;
    }
    return pass(request, identity);
  };
  const settle = (done: (error?: Error) => void, outcome: MiaRunError | undefined | Promise<MiaRunError | undefined>): void => {
    if (outcome instanceof Promise) outcome.then(done, done);
    else done(outcome);
  };

  return function guard(request, reply, done) {
    const headers = request.raw.headers;
    // The runtime's listener marker has already set (backoffice port) or removed (application port) it.
    const isBackoffice = headers[shared.identityNames.isBackoffice] === 'true';
    if (!(isBackoffice ? options.listeners.backoffice : options.listeners.application)) return done(notHere);
    if (options.cors && applyCors(options.cors, request, reply)) return done();
    const length = headers['content-length'];
    if (length !== undefined && Number(length) > options.bodyLimit) {
      return done(new MiaRunError('MR_HTTP_PAYLOAD_TOO_LARGE', `the request body is larger than ${options.bodyLimit} bytes`));
    }
    // Incoming header names are lower-case (Node), so one Set lookup per header strips spoofed identity.
    if (!shared.trustIdentityHeaders) for (const name in headers) if (banned.has(name)) delete headers[name];
    let credentials: Credentials | Promise<Credentials>;
    try {
      credentials = shared.authenticate(headers);
    } catch (error) {
      return done(error as Error);
    }
    if (credentials instanceof Promise) {
      credentials.then(
        (c) => settle(done, admit(request, reply, c, isBackoffice)),
        (error: Error) => done(error),
      );
      return;
    }
    settle(done, admit(request, reply, credentials, isBackoffice));
  };
}
