/**
 * An update body to a store update (crud-api.md §5, §6): operators allow-listed by the route's JSON Schema,
 * dotted paths checked against the type tree, values cast, `acl_write_columns` applied to every operator
 * (Mia forgets `$unset` and `$currentDate`, §10), positional `arr.$.replace` / `arr.$.merge`, metadata set.
 */
import type { Update } from '../ports/document-store.js';
import { castWrite, checkKey } from './cast.js';
import { badRequest } from './errors.js';
import type { CollectionModel } from './model/collection-model.js';
import { ANY, nodeAtPath, type TypeNode } from './model/type-node.js';
import { parseFilter } from './query/filter.js';
import type { RequestContext } from './request-context.js';

export interface ParsedUpdate {
  readonly update: Update;
  /** True when a positional (`$`) path needs the filter to match an array element. */
  readonly positional: boolean;
}

function filterPaths(filter: unknown, out: string[] = []): string[] {
  if (Array.isArray(filter)) for (const f of filter) filterPaths(f, out);
  else if (isPlainObject(filter)) {
    for (const [k, v] of Object.entries(filter)) {
      if (k === '$and' || k === '$or') filterPaths(v, out);
      else if (!k.startsWith('$')) out.push(k);
    }
  }
  return out;
}

/**
 * A positional path (`list.$...`) needs the filter to name that array; without it the backends fail with
 * their own texts (Mia answers 500), so the request is a 400 naming the field.
 */
export function checkPositional(update: Update, filter: unknown): void {
  const paths = filterPaths(filter);
  for (const ops of Object.values(update)) {
    if (!isPlainObject(ops)) continue;
    for (const path of Object.keys(ops)) {
      const at = path.indexOf('.$');
      if (at < 0) continue;
      const base = path.slice(0, at);
      if (!paths.some((p) => p === base || p.startsWith(`${base}.`))) throw badRequest(`The positional update of ${base} needs a _q condition on ${base}`);
    }
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function pathNode(model: CollectionModel, path: string, op: string): TypeNode {
  const segments = path.split('.');
  for (const s of segments) {
    checkKey(s === '$' ? '_' : s, `body/${op}`);
    if (s === '') throw badRequest(`body/${op}: invalid field path "${path}"`);
  }
  const field = model.fields.get(segments[0] ?? '');
  if (field === undefined) throw badRequest(`Unknown field: ${path}`);
  if (field.metadata) throw badRequest(`body/${op}: ${path} is a metadata field and cannot be updated`);
  const node = nodeAtPath(model.root, segments);
  if (node === undefined) throw badRequest(`Unknown field: ${path}`);
  return node;
}

function arrayElement(model: CollectionModel, path: string, op: string): TypeNode {
  const node = pathNode(model, path, op);
  if (node.kind === 'any') return ANY;
  if (node.kind !== 'array') throw badRequest(`body/${op}/${path} must be an array field`);
  return node.items;
}

function castEach(model: CollectionModel, op: string, path: string, value: unknown): unknown {
  const items = arrayElement(model, path, op);
  const where = `body/${op}/${path}`;
  if (isPlainObject(value) && '$each' in value) {
    const allowed = op === '$push' ? ['$each', '$position', '$slice', '$sort'] : ['$each'];
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (!allowed.includes(k)) throw badRequest(`${where}: ${k} is not allowed with ${op}`);
      if (k === '$each') {
        if (!Array.isArray(v)) throw badRequest(`${where}/$each must be array`);
        out.$each = v.map((item, i) => castWrite(items, item, `${where}/$each/${i}`));
      } else if (k === '$sort') {
        if (!(v === 1 || v === -1 || (isPlainObject(v) && Object.values(v).every((d) => d === 1 || d === -1)))) throw badRequest(`${where}/$sort must be 1, -1 or { field: 1|-1 }`);
        out.$sort = v;
      } else {
        if (typeof v !== 'number' || !Number.isInteger(v)) throw badRequest(`${where}/${k} must be integer`);
        out[k] = v;
      }
    }
    return out;
  }
  return castWrite(items, value, where);
}

function castPull(model: CollectionModel, path: string, value: unknown): unknown {
  const items = arrayElement(model, path, '$pull');
  if (isPlainObject(value) && Object.keys(value).some((k) => k.startsWith('$') || items.kind === 'object')) {
    // A condition on elements: the same allow-list and casting as `_q`, rooted at the element type.
    const sub: CollectionModel = { ...model, root: { kind: 'object', nullable: false, properties: new Map([['e', items]]), additional: false } };
    const parsed = parseFilter(sub, { e: value }, 'body/$pull').filter.e;
    return parsed;
  }
  return castWrite(items, value, `body/$pull/${path}`);
}

function checkWritable(path: string, ctx: RequestContext): void {
  const root = path.split('.')[0] ?? path;
  if (ctx.writeColumns !== undefined && !ctx.writeColumns.has(root)) throw badRequest(`Field ${root} is not writable (acl_write_columns)`);
}

/** Checks, casts and completes an update; `now` stamps `updatedAt`. */
export function parseUpdate(model: CollectionModel, body: Readonly<Record<string, unknown>>, ctx: RequestContext, now: Date): ParsedUpdate {
  const update: Record<string, Record<string, unknown>> = {};
  let positional = false;
  for (const [op, paths] of Object.entries(body)) {
    if (!isPlainObject(paths)) throw badRequest(`body/${op} must be object`);
    const out: Record<string, unknown> = {};
    for (const [rawPath, value] of Object.entries(paths)) {
      checkWritable(rawPath, ctx);
      const path = rawPath;
      if (rawPath.includes('.$')) positional = true;
      switch (op) {
        case '$set':
        case '$setOnInsert': {
          if (op === '$set' && (rawPath.endsWith('.$.replace') || rawPath.endsWith('.$.merge'))) {
            const base = rawPath.slice(0, rawPath.lastIndexOf('.$.'));
            const items = arrayElement(model, base, op);
            if (rawPath.endsWith('.$.replace')) {
              out[`${base}.$`] = castWrite(items, value, `body/${op}/${rawPath}`);
            } else {
              if (!isPlainObject(value)) throw badRequest(`body/${op}/${rawPath} must be object`);
              for (const [k, v] of Object.entries(value)) {
                checkKey(k, `body/${op}/${rawPath}`);
                const node = nodeAtPath(items, [k]);
                if (node === undefined) throw badRequest(`Unknown field: ${base}.${k}`);
                out[`${base}.$.${k}`] = castWrite(node, v, `body/${op}/${rawPath}/${k}`);
              }
            }
            continue;
          }
          const node = pathNode(model, path, op);
          out[path] = castWrite(node, value, `body/${op}/${path}`);
          break;
        }
        case '$unset':
          pathNode(model, path, op);
          out[path] = '';
          break;
        case '$inc':
        case '$mul': {
          const node = pathNode(model, path, op);
          if ((node.kind !== 'number' && node.kind !== 'any') || typeof value !== 'number') throw badRequest(`body/${op}/${path} must be number`);
          out[path] = value;
          break;
        }
        case '$currentDate': {
          const node = pathNode(model, path, op);
          if (node.kind !== 'Date' || value !== true) throw badRequest(`body/${op}/${path} must be a Date field set to true`);
          out[path] = true;
          break;
        }
        case '$push':
        case '$addToSet':
          out[path] = castEach(model, op, path, value);
          break;
        case '$pull':
          out[path] = castPull(model, path, value);
          break;
        default:
          throw badRequest(`Unsupported operator: ${op}`);
      }
    }
    if (Object.keys(out).length > 0) update[op] = out;
  }
  if (Object.keys(update).length === 0) throw badRequest('body must have at least one update operator');
  update.$set = { ...update.$set, updaterId: ctx.userId, updatedAt: now };
  return { update, positional };
}
