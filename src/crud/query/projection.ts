/**
 * `_p`, `_rawp` and `acl_read_columns` to a projection (crud-api.md §3, §6). `_id` is always returned; the
 * ACL columns bound both forms. A raw projection with expressions needs an aggregation `$project`.
 */
import { badRequest } from '../errors.js';
import type { CollectionModel } from '../model/collection-model.js';

const RAW_OPERATORS = new Set([
  '$eq', '$gt', '$gte', '$in', '$lt', '$lte', '$ne', '$nin', '$and', '$not', '$nor', '$or', '$exists', '$type', '$cond', '$regexMatch', '$mod',
  '$all', '$elemMatch', '$size', '$filter', '$reduce', '$concatArrays', '$first', '$map', '$dateToString',
]);
const SYSTEM_VARIABLES = new Set(['$$ROOT', '$$CURRENT', '$$PRUNE', '$$DESCEND', '$$KEEP', '$$CLUSTER_TIME', '$$REMOVE', '$$NOW']);
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_RAW_DEPTH = 8;

export interface ProjectionPlan {
  /** Plain inclusion projection; undefined = every field. */
  readonly fields?: Readonly<Record<string, 1>>;
  /** A raw projection with expressions (used through `aggregate`), or with only 0/1 values. */
  readonly raw?: Readonly<Record<string, unknown>>;
  /** Whether `raw` holds expressions (then it needs `aggregate`). */
  readonly rawExpressions: boolean;
}

const rootOf = (path: string): string => path.split('.')[0] ?? path;

function checkFieldName(name: string, param: string): void {
  if (FORBIDDEN_KEYS.has(rootOf(name)) || name.startsWith('$') || name.split('.').some((s) => s === '')) throw badRequest(`${param}: invalid field "${name}"`);
}

function checkExpression(value: unknown, depth: number): boolean {
  if (depth > MAX_RAW_DEPTH) throw badRequest(`_rawp is nested too deeply (more than ${MAX_RAW_DEPTH} levels)`);
  if (typeof value === 'string') {
    if (value.startsWith('$$')) {
      const variable = value.split('.')[0] ?? value;
      if (SYSTEM_VARIABLES.has(variable)) throw badRequest(`Operator ${variable} is not allowed in raw projection`);
    }
    return false;
  }
  if (Array.isArray(value)) return value.map((v) => checkExpression(v, depth + 1)).some(Boolean) || value.length > 0;
  if (typeof value === 'object' && value !== null) {
    for (const [key, sub] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(key)) throw badRequest(`_rawp: key "${key}" is not allowed`);
      if (key.startsWith('$') && !RAW_OPERATORS.has(key)) throw badRequest(`Operator ${key} is not allowed in raw projection`);
      checkExpression(sub, depth + 1);
    }
    return true;
  }
  return false;
}

/**
 * Builds the projection of a read. `rawp` is the parsed `_rawp` JSON; `readColumns` the `acl_read_columns`.
 */
export function projectionPlan(model: CollectionModel, p: string | undefined, rawp: unknown, readColumns: ReadonlySet<string> | undefined): ProjectionPlan {
  if (p !== undefined && rawp !== undefined) throw badRequest('Use of both _rawp and _p parameter is not allowed');
  const readable = (path: string): boolean => model.fields.has(rootOf(path)) && (readColumns === undefined || readColumns.has(rootOf(path)) || rootOf(path) === '_id');
  if (rawp !== undefined) {
    if (typeof rawp !== 'object' || rawp === null || Array.isArray(rawp)) throw badRequest('_rawp must be a JSON object');
    const raw: Record<string, unknown> = {};
    let expressions = false;
    let exclusion = false;
    for (const [key, value] of Object.entries(rawp)) {
      checkFieldName(key, '_rawp');
      if (value === 0 || value === false) exclusion = true;
      else if (value !== 1 && value !== true) expressions = checkExpression(value, 1) || expressions;
      if (readable(key)) raw[key] = value;
    }
    if (exclusion && !expressions) {
      // An exclusion under column ACL becomes the inclusion of the readable columns that are not excluded.
      const excluded = new Set(Object.keys(rawp as object).filter((k) => (rawp as Record<string, unknown>)[k] === 0 || (rawp as Record<string, unknown>)[k] === false));
      const fields: Record<string, 1> = {};
      for (const name of model.fields.keys()) if (!excluded.has(name) && readable(name)) fields[name] = 1;
      return { fields, rawExpressions: false };
    }
    if (!expressions) return { fields: Object.fromEntries(Object.keys(raw).map((k) => [k, 1 as const])), rawExpressions: false };
    return { raw, rawExpressions: true };
  }
  if (p !== undefined) {
    const fields: Record<string, 1> = {};
    for (const name of p.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      checkFieldName(name, '_p');
      if (readable(name)) fields[name] = 1;
    }
    return { fields, rawExpressions: false };
  }
  if (readColumns !== undefined) {
    const fields: Record<string, 1> = {};
    for (const name of model.fields.keys()) if (readable(name)) fields[name] = 1;
    return { fields, rawExpressions: false };
  }
  return { rawExpressions: false };
}
