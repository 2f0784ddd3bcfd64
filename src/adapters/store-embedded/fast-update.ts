/**
 * The hot path of updates: `$set`, `$unset`, `$inc` and `$mul` on paths through plain objects only (no arrays,
 * no positional operators), applied copy-on-write so the original document stays intact. Anything else returns
 * undefined and goes through mingo's updater, which builds an operator context on every call (about a
 * hundred microseconds, more than the rest of an update).
 */
import { MiaRunError } from '../../errors.js';
import type { Document } from '../../ports/document-store.js';
import { encodeValue, isPlainObject } from './key-encoding.js';
import { cloneDocument } from './codec.js';

const FAST_OPS = new Set(['$set', '$unset', '$inc', '$mul']);
const GIVE_UP = Symbol('give up');

function copyValue(value: unknown): unknown {
  return value !== null && typeof value === 'object' && (Array.isArray(value) || isPlainObject(value)) ? cloneDocument({ v: value }).v : value;
}

function sameValue(a: unknown, b: unknown): boolean {
  return encodeValue(a).equals(encodeValue(b));
}

/** The parent object of `path` in `root` (copied on write), creating missing objects when `create`. */
function parentOf(root: Document, parts: readonly string[], copied: Set<object>, create: boolean): Record<string, unknown> | typeof GIVE_UP | undefined {
  let node: Record<string, unknown> = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i]!;
    const child = node[key];
    if (child === undefined) {
      if (!create) return undefined;
      const fresh: Record<string, unknown> = {};
      copied.add(fresh);
      node[key] = fresh;
      node = fresh;
    } else if (isPlainObject(child)) {
      if (!copied.has(child)) {
        const copy = { ...child };
        copied.add(copy);
        node[key] = copy;
        node = copy;
      } else node = child;
    } else return GIVE_UP;
  }
  return node;
}

function numeric(op: string, path: string, value: unknown): number {
  if (typeof value !== 'number') throw new MiaRunError('MR_STORE_INVALID_QUERY', `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument at "${path}"`);
  return value;
}

/** Applies the update when it only uses the fast operators on plain paths; undefined otherwise. */
export function fastUpdate(doc: Document, modifier: Readonly<Record<string, Readonly<Record<string, unknown>>>>): { doc: Document; changed: boolean } | undefined {
  for (const [op, fields] of Object.entries(modifier)) {
    if (!FAST_OPS.has(op)) return undefined;
    for (const path of Object.keys(fields)) if (path.includes('$') || path === '' || path.split('.').some((p) => p === '' || /^\d+$/.test(p))) return undefined;
  }
  const root: Document = { ...doc };
  const copied = new Set<object>([root]);
  let changed = false;
  for (const [op, fields] of Object.entries(modifier)) {
    for (const [path, operand] of Object.entries(fields)) {
      const parts = path.split('.');
      const last = parts[parts.length - 1]!;
      const parent = parentOf(root, parts, copied, op !== '$unset');
      if (parent === GIVE_UP) return undefined;
      if (parent === undefined) continue;
      const exists = Object.prototype.hasOwnProperty.call(parent, last);
      const current = parent[last];
      if (op === '$unset') {
        if (exists) {
          delete parent[last];
          changed = true;
        }
        continue;
      }
      let next: unknown;
      if (op === '$set') next = copyValue(operand);
      else {
        const by = numeric(op, path, operand);
        if (exists && typeof current !== 'number') {
          throw new MiaRunError('MR_STORE_INVALID_QUERY', `Cannot apply ${op} to a value of non-numeric type at "${path}"`);
        }
        next = op === '$inc' ? (exists ? (current as number) + by : by) : exists ? (current as number) * by : 0;
      }
      if (!exists || !sameValue(current, next)) changed = true;
      parent[last] = next;
    }
  }
  return { doc: root, changed };
}
