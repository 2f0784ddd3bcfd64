/**
 * Read API of projections and single views (fast-data.md §7, mounted by the gateway behind
 * `target: { projection }` / `target: { view }`): `GET /` (list), `GET /count`, `GET /:id`, with Mia CRUD's
 * `_q` (MongoDB filter as JSON), `_st` (states, default PUBLIC), `_s` (sort), `_p` (fields), `_l`, `_sk`.
 * Read-only: only the engine writes projections and views. `:id` is the `_id`, or the value of a
 * single-field key.
 */
import { ObjectId } from 'bson';
import type { FastifyPluginAsync } from 'fastify';
import { MiaRunError } from '../errors.js';
import type { Collection, Filter, Projection, Sort } from '../ports/document-store.js';

export interface ReadTarget {
  readonly kind: 'projection' | 'view';
  readonly name: string;
  readonly collection: () => Collection;
  /** Key fields (projection PK or SV key). */
  readonly keyFields: readonly string[];
}

type Query = Record<string, string | undefined>;
const STATES = new Set(['PUBLIC', 'DRAFT', 'TRASH', 'DELETED']);
// Operators that run code or write are refused in `_q`.
const FORBIDDEN = new Set(['$where', '$function', '$accumulator', '$expr']);
const MAX_LIMIT = 500;

function bad(message: string): MiaRunError {
  return new MiaRunError('MR_FD_INVALID_QUERY', message);
}

function checkFilter(value: unknown): void {
  if (Array.isArray(value)) value.forEach(checkFilter);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (FORBIDDEN.has(k)) throw bad(`_q: operator ${k} is not allowed`);
      checkFilter(v);
    }
  }
}

function filterOf(query: Query): Filter {
  const filter: Filter = {};
  if (query._q !== undefined && query._q !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(query._q);
    } catch {
      throw bad('_q is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('_q must be a JSON object');
    checkFilter(parsed);
    filter.$and = [parsed];
  }
  const states = (query._st ?? 'PUBLIC').split(',').filter((s) => s !== '');
  for (const s of states) if (!STATES.has(s)) throw bad(`_st: unknown state "${s}"`);
  filter.__STATE__ = { $in: states };
  return filter;
}

function intOf(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw bad(`${name} must be a non-negative integer`);
  return n;
}

function sortOf(text: string | undefined): Sort | undefined {
  if (text === undefined || text === '') return undefined;
  return Object.fromEntries(text.split(',').map((f) => (f.startsWith('-') ? [f.slice(1), -1] : [f, 1])));
}

function projectionOf(text: string | undefined): Projection | undefined {
  if (text === undefined || text === '') return undefined;
  return Object.fromEntries(text.split(',').map((f) => [f, 1]));
}

function idFilter(target: ReadTarget, id: string): Filter {
  if (/^[0-9a-f]{24}$/i.test(id)) return { _id: new ObjectId(id) };
  if (target.keyFields.length !== 1) throw bad(`${target.kind} "${target.name}" has a composite key: read it with _q`);
  const field = target.keyFields[0]!;
  return /^-?\d+(\.\d+)?$/.test(id) ? { $or: [{ [field]: id }, { [field]: Number(id) }] } : { [field]: id };
}

/** The encapsulated plugin serving one projection or view. */
export function readRoutes(target: ReadTarget): FastifyPluginAsync {
  return async (app) => {
    app.get('/', async (request) => {
      const q = request.query as Query;
      const sort = sortOf(q._s);
      const projection = projectionOf(q._p);
      return target
        .collection()
        .find(filterOf(q), { ...(sort ? { sort } : {}), ...(projection ? { projection } : {}), skip: intOf(q._sk, '_sk', 0), limit: Math.min(intOf(q._l, '_l', 200), MAX_LIMIT) })
        .toArray();
    });
    app.get('/count', async (request) => target.collection().count(filterOf(request.query as Query)));
    app.get('/:id', async (request) => {
      const { id } = request.params as { id: string };
      const q = request.query as Query;
      const projection = projectionOf(q._p);
      const doc = await target.collection().findOne({ ...filterOf(q), ...idFilter(target, id) }, projection ? { projection } : {});
      if (doc === null) throw new MiaRunError('MR_FD_NOT_FOUND', `${target.kind} "${target.name}" has no document "${id}"`);
      return doc;
    });
  };
}
