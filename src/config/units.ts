/**
 * Human units of the descriptor: durations (`100ms`, `2s`, `15m`, `1h`, `1d`), sizes (`512kb`, `1mb`, `1gb`)
 * and percentages (`50%`). A bare number (or a string of digits, as `${VAR}` interpolation produces) is
 * already in the base unit: milliseconds, bytes, percent. Each parser returns `undefined` for a value it
 * cannot read, so the caller reports it with a position.
 */

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
// Binary multiples, as HTTP body limits are usually meant (1mb = 1 MiB).
const SIZE_UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

const NUMBER = /^\s*(\d+(?:\.\d+)?)\s*$/;
const WITH_UNIT = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i;

function parseWithUnits(value: unknown, units: Readonly<Record<string, number>>): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const plain = NUMBER.exec(value);
  if (plain) return Number(plain[1]);
  const m = WITH_UNIT.exec(value);
  if (!m) return undefined;
  const factor = units[(m[2] ?? '').toLowerCase()];
  if (factor === undefined) return undefined;
  return Math.round(Number(m[1]) * factor);
}

/**
 * Milliseconds of a duration.
 * @example parseDuration('2s') // 2000
 * @example parseDuration(250) // 250
 */
export function parseDuration(value: unknown): number | undefined {
  return parseWithUnits(value, DURATION_UNITS);
}

/**
 * Bytes of a size (binary multiples).
 * @example parseSize('1mb') // 1048576
 */
export function parseSize(value: unknown): number | undefined {
  return parseWithUnits(value, SIZE_UNITS);
}

/**
 * Percent (0-100) of `50%` or `50`; `undefined` outside 0-100.
 * @example parsePercentage('10%') // 10
 */
export function parsePercentage(value: unknown): number | undefined {
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(value);
    n = m ? Number(m[1]) : undefined;
  }
  return n !== undefined && Number.isFinite(n) && n >= 0 && n <= 100 ? n : undefined;
}

/** Pattern of a duration string, shared with the schema so editors flag a bad value while typing. */
export const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)?\\s*$';
/** Pattern of a size string. */
export const SIZE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(b|kb|mb|gb)?\\s*$';
/** Pattern of a percentage string. */
export const PERCENT_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*%?\\s*$';
