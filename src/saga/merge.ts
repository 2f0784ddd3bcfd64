/**
 * Metadata merge of an event payload into the saga (flow-manager.md §5): first level by default (nested
 * objects replaced whole), deep when `settings.deepMergeMetadata.enabled` (plain objects merged recursively,
 * arrays and other values replaced).
 */

type Plain = Record<string, unknown>;

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

function isPlain(value: unknown): value is Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function deepMerge(target: Plain, source: Plain): Plain {
  const out: Plain = { ...target };
  for (const [key, value] of Object.entries(source)) {
    if (FORBIDDEN.has(key)) continue;
    const current = out[key];
    out[key] = isPlain(current) && isPlain(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/**
 * The metadata after an event. A payload that is not an object leaves the metadata unchanged.
 *
 * @example mergeMetadata({ a: 1, addr: { country: 'IT' } }, { b: 2, addr: { zip: '1' } }, false)
 * // { a: 1, b: 2, addr: { zip: '1' } }
 */
export function mergeMetadata(metadata: Readonly<Plain>, payload: unknown, deep: boolean): Plain {
  if (!isPlain(payload)) return { ...metadata };
  if (deep) return deepMerge(metadata, payload);
  const out: Plain = { ...metadata };
  for (const [key, value] of Object.entries(payload)) if (!FORBIDDEN.has(key)) out[key] = value;
  return out;
}
