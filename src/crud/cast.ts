/**
 * Conversions between wire and stored values, by the collection's type tree (crud-api.md §1 "Wire forms"):
 * ObjectId ⇄ 24 hex digits, Date ⇄ ISO-8601, GeoPoint ⇄ `[lon, lat]` / GeoJSON Point. Casting is recursive
 * (dates inside arrays and raw objects too; Mia casts only the top level, §10).
 */
import { ObjectId } from 'bson';
import { badRequest } from './errors.js';
import type { TypeNode } from './model/type-node.js';

const HEX24 = /^[0-9a-fA-F]{24}$/;

export const isObjectIdHex = (value: unknown): value is string => typeof value === 'string' && HEX24.test(value);

/** A Date from an ISO string or epoch milliseconds; undefined when the value is not a valid date. */
export function toDate(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value === 'string' || typeof value === 'number') {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}

export const isGeoJsonPoint = (value: unknown): value is { type: 'Point'; coordinates: [number, number] } =>
  typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Point' && Array.isArray((value as { coordinates?: unknown }).coordinates);

function lonLat(value: unknown, path: string): [number, number] {
  if (
    Array.isArray(value) && value.length === 2 &&
    typeof value[0] === 'number' && typeof value[1] === 'number' &&
    Math.abs(value[0]) <= 180 && Math.abs(value[1]) <= 90
  ) {
    return [value[0], value[1]];
  }
  throw badRequest(`${path} must be a [longitude, latitude] pair`);
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Throws when a key could pollute prototypes or is not a storable field name. */
export function checkKey(key: string, path: string): void {
  if (FORBIDDEN_KEYS.has(key)) throw badRequest(`${path}: key "${key}" is not allowed`);
  if (key.startsWith('$')) throw badRequest(`${path}: field names cannot start with "$" ("${key}")`);
}

/**
 * A client value (already shape-checked by JSON Schema at the top level) as it is stored. `path` names the
 * value in messages, e.g. `body/price`.
 */
export function castWrite(node: TypeNode, value: unknown, path: string): unknown {
  if (value === null) {
    if (node.nullable || node.kind === 'any') return null;
    throw badRequest(`${path} must not be null`);
  }
  switch (node.kind) {
    case 'string':
      if (typeof value !== 'string') throw badRequest(`${path} must be string`);
      return value;
    case 'number': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw badRequest(`${path} must be number`);
      return n;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw badRequest(`${path} must be boolean`);
      return value;
    case 'Date': {
      const date = typeof value === 'string' || value instanceof Date ? toDate(value) : undefined;
      if (date === undefined) throw badRequest(`${path} must match format "date-time"`);
      return date;
    }
    case 'ObjectId':
      if (value instanceof ObjectId) return value;
      if (!isObjectIdHex(value)) throw badRequest(`${path} must be an ObjectId (24 hex digits)`);
      return new ObjectId(value);
    case 'GeoPoint':
      if (isGeoJsonPoint(value)) return value;
      return { type: 'Point', coordinates: lonLat(value, path) };
    case 'array':
      if (!Array.isArray(value)) throw badRequest(`${path} must be array`);
      return value.map((item, i) => castWrite(node.items, item, `${path}/${i}`));
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`${path} must be object`);
      return castObject(node, value as Record<string, unknown>, path);
    }
    case 'any':
      return castAny(value, path);
  }
}

function castObject(node: Extract<TypeNode, { kind: 'object' }>, value: Record<string, unknown>, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    checkKey(key, path);
    const child = node.properties?.get(key);
    if (child !== undefined) out[key] = castWrite(child, item, `${path}/${key}`);
    else if (node.properties === undefined || node.additional) out[key] = castAny(item, `${path}/${key}`);
    else throw badRequest(`${path} must NOT have additional properties. Property "${key}" is not defined in validation schema`);
  }
  return out;
}

/** Free-form values: only key safety is checked (deep nesting is bounded by the body parser's depth). */
function castAny(value: unknown, path: string): unknown {
  if (Array.isArray(value)) return value.map((item, i) => castAny(item, `${path}/${i}`));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      checkKey(key, path);
      out[key] = castAny(item, `${path}/${key}`);
    }
    return out;
  }
  return value;
}

/** True when stored values of this node need converting for the wire (GeoPoints; ObjectId/Date serialize via toJSON). */
export function needsWireConversion(node: TypeNode): boolean {
  switch (node.kind) {
    case 'GeoPoint':
      return true;
    case 'array':
      return needsWireConversion(node.items);
    case 'object':
      return node.properties !== undefined && [...node.properties.values()].some(needsWireConversion);
    default:
      return false;
  }
}

/** A stored value in its wire form (only called where `needsWireConversion` is true). */
export function toWire(node: TypeNode, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (node.kind === 'GeoPoint') return isGeoJsonPoint(value) ? value.coordinates : value;
  if (node.kind === 'array' && Array.isArray(value)) return value.map((item) => toWire(node.items, item));
  if (node.kind === 'object' && node.properties !== undefined && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const [key, child] of node.properties) if (key in out && needsWireConversion(child)) out[key] = toWire(child, out[key]);
    return out;
  }
  return value;
}
