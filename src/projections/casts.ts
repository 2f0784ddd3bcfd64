/**
 * Cast functions applied to source columns before a projection stores them (fast-data.md §3.1). Built-ins
 * accept Mia's Console and Projection Storer names as aliases. A cast returns `CAST_FAILED` (or throws) for
 * input it cannot convert; the caller stores null and counts it, or dead-letters on a required field.
 */
import type { Logger } from '../ports/logger.js';

/** Returned by a cast that cannot convert its input. */
export const CAST_FAILED: unique symbol = Symbol('cast-failed');

export interface CastContext {
  readonly fieldName: string;
  /** The whole source image, so one field can derive from several columns. */
  readonly record: Readonly<Record<string, unknown>>;
  readonly logger: Logger;
}

export type CastFn = (value: unknown, ctx: CastContext) => unknown;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return CAST_FAILED;
  }
}

function toDate(value: unknown): Date | typeof CAST_FAILED {
  const date = value instanceof Date ? value : typeof value === 'number' || typeof value === 'string' ? new Date(typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value) : undefined;
  return date === undefined || Number.isNaN(date.getTime()) ? CAST_FAILED : date;
}

const BUILTINS: Readonly<Record<string, CastFn>> = {
  identity: (v) => v,
  toString: (v: unknown) => (typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : String(v)),
  toInteger: (v) => {
    const n = typeof v === 'boolean' ? Number(v) : Number(v);
    return Number.isFinite(n) ? Math.trunc(n) : CAST_FAILED;
  },
  toNumber: (v) => {
    const n = Number(v);
    return Number.isNaN(n) || typeof v === 'object' ? CAST_FAILED : n;
  },
  toBoolean: (v) => {
    if (typeof v === 'boolean') return v;
    if (v === 'true') return true;
    if (v === 'false') return false;
    return CAST_FAILED;
  },
  toDate: (v) => toDate(v),
  unixTimestampToISOString: (v) => {
    const d = toDate(typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v);
    return d === CAST_FAILED ? d : d.toISOString();
  },
  toObject: (v) => {
    const parsed = parseJson(v);
    return isPlainObject(parsed) ? parsed : CAST_FAILED;
  },
  toArrayOfObject: (v) => {
    const parsed = parseJson(v);
    return Array.isArray(parsed) && parsed.every(isPlainObject) ? parsed : CAST_FAILED;
  },
};

const ALIASES: Readonly<Record<string, string>> = {
  defaultIdentity: 'identity',
  toTimestamp: 'toDate',
  ...Object.fromEntries(
    [
      ['toString', 'CastToString'],
      ['toInteger', 'CastToInteger'],
      ['toNumber', 'CastToFloat'],
      ['toBoolean', 'CastStringToBoolean'],
      ['toDate', 'CastToDate'],
      ['unixTimestampToISOString', 'CastUnixTimestampToISOString'],
      ['toObject', 'CastToObject'],
      ['toArrayOfObject', 'CastToArrayOfObject'],
    ].flatMap(([name, suffix]) => [
      [`default${suffix}`, name],
      [`c${suffix!.slice(1)}`, name],
    ]),
  ),
  defaultCastUnitTimestampToISOString: 'unixTimestampToISOString',
};

/** The built-in cast of a name or alias, if any. */
export function builtinCast(name: string): CastFn | undefined {
  return BUILTINS[name] ?? BUILTINS[ALIASES[name] ?? ''];
}

/**
 * Applies a cast: `null` stays `null`; a throw or `undefined` result (custom casts) is a failure.
 * @example applyCast(builtinCast('toInteger')!, '42', ctx) // 42
 */
export function applyCast(cast: CastFn, value: unknown, ctx: CastContext): unknown {
  if (value === null) return null;
  try {
    const result = cast(value, ctx);
    return result === undefined ? CAST_FAILED : result;
  } catch {
    return CAST_FAILED;
  }
}
