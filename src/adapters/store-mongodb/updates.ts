/**
 * Update documents on their way to the server. `$currentDate` is resolved from the store's `Clock` (the
 * port's contract, so tests with a manual clock see the same dates on every adapter); a `{ $type: 'timestamp' }`
 * request keeps the server's BSON timestamp.
 */
import type { Update } from '../../ports/document-store.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The update with `$currentDate` date fields turned into a `$set` of the clock's time. */
export function resolveCurrentDate(update: Update, now: number): Update {
  const current = update.$currentDate;
  if (!isRecord(current)) return update;
  const dates: Record<string, Date> = {};
  const kept: Record<string, unknown> = {};
  for (const [path, spec] of Object.entries(current)) {
    if (isRecord(spec) && spec.$type === 'timestamp') kept[path] = spec;
    else dates[path] = new Date(now);
  }
  const { $currentDate: _ignored, ...rest } = update;
  const set = isRecord(rest.$set) ? { ...rest.$set, ...dates } : dates;
  const result: Record<string, unknown> = Object.keys(set).length > 0 ? { ...rest, $set: set } : { ...rest };
  if (Object.keys(kept).length > 0) result.$currentDate = kept;
  return result;
}
