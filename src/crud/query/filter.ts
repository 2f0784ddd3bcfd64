/**
 * `_q` (and `acl_rows`) to a store filter (crud-api.md §3): operator allow-lists, unknown fields, casting by
 * the schema (ObjectId, Date, GeoPoint, dot paths and array indexes), `$regex` safety, `$nearSphere` and
 * `$text`. Everything a client could abuse is a 400 with a precise message, never a store error.
 */
import safeRegex from 'safe-regex2';
import { badRequest } from '../errors.js';
import { isObjectIdHex, toDate } from '../cast.js';
import { ObjectId } from 'bson';
import type { CollectionModel } from '../model/collection-model.js';
import { ANY, nodeAtPath, type TypeNode } from '../model/type-node.js';
import type { Filter } from '../../ports/document-store.js';

const TOP_OPERATORS = new Set(['$and', '$or', '$text']);
const FIELD_OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$all', '$exists', '$regex', '$options', '$elemMatch', '$size', '$nearSphere']);
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export const FILTER_LIMITS = { maxDepth: 8, maxRegexLength: 256, maxInItems: 1000, maxNodes: 2000 } as const;

export interface ParsedFilter {
  readonly filter: Filter;
  /** True when the filter has `$text` (the list adds the score and sorts by it). */
  readonly text: boolean;
  /** True when the filter has `$nearSphere` (results come nearest first; no other sort). */
  readonly near: boolean;
}

interface Walk {
  readonly model: CollectionModel;
  readonly name: string;
  nodes: number;
  text: boolean;
  near: boolean;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof ObjectId);

function enter(walk: Walk, depth: number): void {
  walk.nodes += 1;
  if (depth > FILTER_LIMITS.maxDepth) throw badRequest(`${walk.name} is nested too deeply (more than ${FILTER_LIMITS.maxDepth} levels)`);
  if (walk.nodes > FILTER_LIMITS.maxNodes) throw badRequest(`${walk.name} is too large (more than ${FILTER_LIMITS.maxNodes} conditions)`);
}

function checkKey(walk: Walk, key: string): void {
  if (FORBIDDEN_KEYS.has(key)) throw badRequest(`${walk.name}: key "${key}" is not allowed`);
}

/** A value compared with a field, cast by the field's type. */
function castScalar(walk: Walk, node: TypeNode, value: unknown, field: string): unknown {
  const target = node.kind === 'array' ? node.items : node;
  if (Array.isArray(value)) return value.map((v) => castScalar(walk, target, v, field));
  if (isPlainObject(value)) return castPlain(walk, value, 1);
  switch (target.kind) {
    case 'ObjectId':
      return isObjectIdHex(value) ? new ObjectId(value) : value;
    case 'Date': {
      if (value === null) return null;
      const date = toDate(value);
      if (date === undefined) throw badRequest(`${walk.name}: ${field} must be a date (ISO-8601 or epoch milliseconds)`);
      return date;
    }
    case 'GeoPoint':
      return value;
    default:
      return value;
  }
}

/** Plain (sub-document) values compared by equality: only key safety. */
function castPlain(walk: Walk, value: Record<string, unknown>, depth: number): Record<string, unknown> {
  enter(walk, depth);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    checkKey(walk, k);
    if (k.startsWith('$')) throw badRequest(`Unsupported operator: ${k}`);
    out[k] = isPlainObject(v) ? castPlain(walk, v, depth + 1) : v;
  }
  return out;
}

function checkRegex(walk: Walk, pattern: unknown, options: unknown): void {
  if (typeof pattern !== 'string') throw badRequest(`${walk.name}: $regex must be a string`);
  if (pattern.length > FILTER_LIMITS.maxRegexLength) throw badRequest(`${walk.name}: $regex is longer than ${FILTER_LIMITS.maxRegexLength} characters`, 'MR_CRUD_UNSAFE_REGEX');
  if (options !== undefined && (typeof options !== 'string' || !/^[imsx]*$/.test(options))) throw badRequest(`${walk.name}: $options may only contain i, m, s, x`);
  try {
    new RegExp(pattern, typeof options === 'string' ? options.replace('x', '') : undefined);
  } catch (error) {
    throw badRequest(`${walk.name}: invalid $regex: ${(error as Error).message}`);
  }
  if (!safeRegex(pattern)) throw badRequest(`${walk.name}: $regex "${pattern}" could backtrack catastrophically`, 'MR_CRUD_UNSAFE_REGEX');
}

function nearSphere(walk: Walk, node: TypeNode, value: unknown, field: string): Record<string, unknown> {
  if (node.kind !== 'GeoPoint' && !walk.model.geoFields.has(field)) throw badRequest(`${walk.name}: $nearSphere is only allowed on GeoPoint fields (${field})`);
  if (!isPlainObject(value)) throw badRequest(`${walk.name}: $nearSphere must be { from: [lon, lat], minDistance?, maxDistance? }`);
  const { from, minDistance, maxDistance, ...rest } = value;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw badRequest(`${walk.name}: $nearSphere does not accept "${extra}"`);
  if (!Array.isArray(from) || from.length !== 2 || from.some((c) => typeof c !== 'number') || Math.abs(from[0] as number) > 180 || Math.abs(from[1] as number) > 90) {
    throw badRequest(`${walk.name}: $nearSphere.from must be [longitude, latitude]`);
  }
  for (const [k, d] of [['minDistance', minDistance], ['maxDistance', maxDistance]] as const) {
    if (d !== undefined && (typeof d !== 'number' || d < 0)) throw badRequest(`${walk.name}: $nearSphere.${k} must be a number >= 0`);
  }
  walk.near = true;
  return {
    $geometry: { type: 'Point', coordinates: from },
    ...(minDistance === undefined ? {} : { $minDistance: minDistance }),
    ...(maxDistance === undefined ? {} : { $maxDistance: maxDistance }),
  };
}

function fieldOperators(walk: Walk, node: TypeNode, ops: Record<string, unknown>, field: string, depth: number): Record<string, unknown> {
  enter(walk, depth);
  const out: Record<string, unknown> = {};
  const isArray = node.kind === 'array' || node.kind === 'any';
  for (const [op, value] of Object.entries(ops)) {
    checkKey(walk, op);
    if (!FIELD_OPERATORS.has(op)) throw badRequest(`Unsupported operator: ${op}`);
    switch (op) {
      case '$in':
      case '$nin':
      case '$all':
        if (!Array.isArray(value)) throw badRequest(`${walk.name}: ${op} on ${field} needs an array`);
        if (value.length > FILTER_LIMITS.maxInItems) throw badRequest(`${walk.name}: ${op} on ${field} has more than ${FILTER_LIMITS.maxInItems} values`);
        out[op] = value.map((v) => castScalar(walk, node, v, field));
        break;
      case '$exists':
        if (typeof value !== 'boolean' && value !== 0 && value !== 1) throw badRequest(`${walk.name}: $exists on ${field} needs true or false`);
        out[op] = Boolean(value);
        break;
      case '$regex':
        checkRegex(walk, value, ops.$options);
        out[op] = value;
        break;
      case '$options':
        if (ops.$regex === undefined) throw badRequest(`${walk.name}: $options on ${field} needs $regex`);
        out[op] = value;
        break;
      case '$size':
        if (!isArray) throw badRequest(`${walk.name}: $size is only allowed on array fields (${field})`);
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw badRequest(`${walk.name}: $size on ${field} needs an integer >= 0`);
        out[op] = value;
        break;
      case '$elemMatch':
        if (!isArray) throw badRequest(`${walk.name}: $elemMatch is only allowed on array fields (${field})`);
        out[op] = elemMatch(walk, node.kind === 'array' ? node.items : ANY, value, field, depth + 1);
        break;
      case '$nearSphere':
        out[op] = nearSphere(walk, node, value, field);
        break;
      default:
        out[op] = castScalar(walk, node, value, field);
    }
  }
  return out;
}

function elemMatch(walk: Walk, items: TypeNode, value: unknown, field: string, depth: number): Record<string, unknown> {
  if (!isPlainObject(value)) throw badRequest(`${walk.name}: $elemMatch on ${field} needs an object`);
  const keys = Object.keys(value);
  // Operators apply to scalar elements; anything else is a filter over object elements.
  if (keys.length > 0 && keys.every((k) => k.startsWith('$') && FIELD_OPERATORS.has(k))) return fieldOperators(walk, items, value, field, depth);
  return conditions(walk, items, value, depth, `${field}.`);
}

function condition(walk: Walk, root: TypeNode, key: string, value: unknown, depth: number, prefix: string): unknown {
  const segments = key.split('.');
  if (segments.some((s) => s === '' || s.startsWith('$'))) throw badRequest(`${walk.name}: invalid field path "${prefix}${key}"`);
  const node = nodeAtPath(root, segments);
  if (node === undefined) throw badRequest(`Unknown field: ${prefix}${key}`);
  if (isPlainObject(value) && Object.keys(value).some((k) => k.startsWith('$'))) return fieldOperators(walk, node, value, `${prefix}${key}`, depth + 1);
  return castScalar(walk, node, value, `${prefix}${key}`);
}

function conditions(walk: Walk, root: TypeNode, filter: Record<string, unknown>, depth: number, prefix = ''): Record<string, unknown> {
  enter(walk, depth);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(filter)) {
    checkKey(walk, key);
    if (key.startsWith('$')) {
      if (!TOP_OPERATORS.has(key)) throw badRequest(`Unknown operator: ${key}`);
      if (key === '$text') {
        if (depth > 0 || prefix !== '') throw badRequest(`${walk.name}: $text is only allowed at the top level`);
        out.$text = textSearch(walk, value);
        continue;
      }
      if (!Array.isArray(value) || value.length === 0) throw badRequest(`${walk.name}: ${key} needs a non-empty array of filters`);
      out[key] = value.map((sub) => {
        if (!isPlainObject(sub)) throw badRequest(`${walk.name}: every ${key} element must be an object`);
        return conditions(walk, root, sub, depth + 1, prefix);
      });
      continue;
    }
    out[key] = condition(walk, root, key, value, depth, prefix);
  }
  return out;
}

function textSearch(walk: Walk, value: unknown): Record<string, unknown> {
  if (!walk.model.hasTextIndex) throw badRequest(`${walk.name}: $text needs a text index on collection ${walk.model.name}`);
  if (!isPlainObject(value) || typeof value.$search !== 'string') throw badRequest(`${walk.name}: $text needs { $search: string }`);
  const allowed: Record<string, string> = { $search: 'string', $language: 'string', $caseSensitive: 'boolean', $diacriticSensitive: 'boolean' };
  for (const [k, v] of Object.entries(value)) {
    if (allowed[k] === undefined) throw badRequest(`${walk.name}: $text does not accept "${k}"`);
    if (typeof v !== allowed[k]) throw badRequest(`${walk.name}: $text.${k} must be ${allowed[k]}`);
  }
  walk.text = true;
  return { ...value };
}

/**
 * Checks and casts a client filter. `name` says where it came from in messages (`_q`, `acl_rows`, ...).
 * An array (as `acl_rows` may be) means `$and` of its elements.
 */
export function parseFilter(model: CollectionModel, raw: unknown, name: string): ParsedFilter {
  const walk: Walk = { model, name, nodes: 0, text: false, near: false };
  let filter: Record<string, unknown>;
  if (Array.isArray(raw)) {
    if (raw.length === 0) return { filter: {}, text: false, near: false };
    filter = conditions(walk, model.root, { $and: raw }, 0);
  } else if (isPlainObject(raw)) {
    filter = conditions(walk, model.root, raw, 0);
  } else {
    throw badRequest(`${name} must be a JSON object`);
  }
  return { filter, text: walk.text, near: walk.near };
}
