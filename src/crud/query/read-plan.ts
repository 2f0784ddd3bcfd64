/**
 * The filter of any CRUD operation (crud-api.md §3, §6): `_q` AND field parameters AND `_id` AND
 * `acl_rows` AND the state filter (`_st`, default PUBLIC, on every operation).
 */
import { ObjectId } from 'bson';
import { DOCUMENT_STATES, type DocumentState } from '../../config/sections/collections.js';
import type { Filter } from '../../ports/document-store.js';
import { isObjectIdHex, toDate } from '../cast.js';
import { badRequest } from '../errors.js';
import type { CollectionModel } from '../model/collection-model.js';
import type { RequestContext } from '../request-context.js';
import { parseJsonParam } from '../request-context.js';
import { parseFilter } from './filter.js';

export type QueryString = Readonly<Record<string, unknown>>;

export interface FilterPlan {
  readonly filter: Filter;
  readonly text: boolean;
  readonly near: boolean;
}

const STATES = new Set<string>(DOCUMENT_STATES);

/** `_st` as a list of states (default PUBLIC); each state is checked (Mia's pattern is not anchored, §10). */
export function parseStates(st: unknown): readonly DocumentState[] {
  if (st === undefined || st === '') return ['PUBLIC'];
  if (typeof st !== 'string') throw badRequest('querystring/_st must be string');
  const states = st.split(',').map((s) => s.trim());
  for (const state of states) if (!STATES.has(state)) throw badRequest(`Unknown state: ${state}`);
  return states as DocumentState[];
}

export function stateFilter(states: readonly DocumentState[]): unknown {
  return states.length === 1 ? states[0] : { $in: [...new Set(states)] };
}

/** An id from the path or `_id` parameter as stored; undefined when it cannot name any document. */
export function castId(model: CollectionModel, id: unknown): unknown {
  if (model.idKind === 'string') return typeof id === 'string' ? id : undefined;
  if (id instanceof ObjectId) return id;
  return isObjectIdHex(id) ? new ObjectId(id) : undefined;
}

/** AND of filters: merged into one object when their keys do not collide. */
export function and(parts: readonly Filter[]): Filter {
  const nonEmpty = parts.filter((p) => Object.keys(p).length > 0);
  if (nonEmpty.length === 0) return {};
  if (nonEmpty.length === 1) return nonEmpty[0] as Filter;
  const merged: Filter = {};
  for (const part of nonEmpty) {
    for (const key of Object.keys(part)) {
      if (key in merged) return { $and: nonEmpty };
      merged[key] = part[key];
    }
  }
  return merged;
}

function fieldParams(model: CollectionModel, query: QueryString): Filter {
  const filter: Filter = {};
  for (const [key, value] of Object.entries(query)) {
    if (key.startsWith('_') && key !== '_id') continue;
    const field = model.fields.get(key);
    if (field === undefined || value === undefined) continue;
    if (key === '_id') {
      const id = castId(model, value);
      // An id that cannot exist matches nothing (Mia answers an empty result, not an error).
      filter._id = id ?? { $in: [] };
      continue;
    }
    if (field.node.kind === 'ObjectId') filter[key] = isObjectIdHex(value) ? new ObjectId(value) : value;
    else if (field.node.kind === 'Date') {
      const date = toDate(value);
      if (date === undefined) throw badRequest(`querystring/${key} must match format "date-time"`);
      filter[key] = date;
    } else filter[key] = value;
  }
  return filter;
}

export interface FilterOptions {
  /** Apply `_st` (default PUBLIC); false for routes whose filter names no state (imports). */
  readonly states?: boolean;
  /** Extra conditions (the path id, a bulk filter). */
  readonly extra?: Filter;
}

/** Builds the store filter of a request. */
export function buildFilter(model: CollectionModel, query: QueryString, ctx: RequestContext, options: FilterOptions = {}): FilterPlan {
  const parts: Filter[] = [];
  if (options.extra !== undefined) parts.push(options.extra);
  let text = false;
  let near = false;
  if (typeof query._q === 'string' && query._q !== '') {
    const parsed = parseFilter(model, parseJsonParam('_q', query._q, ctx.base64), '_q');
    parts.push(parsed.filter);
    text = parsed.text;
    near = parsed.near;
  }
  parts.push(fieldParams(model, query));
  if (ctx.aclRows !== undefined) parts.push(parseFilter(model, parseJsonParam('acl_rows', ctx.aclRows, false), 'acl_rows').filter);
  if (options.states !== false) parts.push({ __STATE__: stateFilter(parseStates(query._st)) });
  return { filter: and(parts), text, near };
}
