/**
 * `deadLetter.mode: holdKey` (fast-data.md §6): once a message of a key is dead-lettered, later messages of
 * that key are dead-lettered too (`MR_FD_KEY_HELD`) until the key is redriven, for sources that send partial
 * images (applying a later update without the failed one would store a wrong record). Holds live in the
 * `fd-control` collection (`{kind: "hold", projection, key}`), shared by every process, read once per batch.
 */
import type { Collection } from '../ports/document-store.js';

export interface KeyHolds {
  /** The held keys among `keys` of `projection`. */
  load(projection: string, keys: readonly string[]): Promise<Set<string>>;
  hold(projection: string, key: string): Promise<void>;
}

const holdId = (projection: string, key: string): string => `hold:${projection}:${key}`;

/** Holds over the control collection. */
export function createKeyHolds(control: Collection, now: () => number): KeyHolds {
  return {
    async load(projection, keys) {
      if (keys.length === 0) return new Set();
      const docs = await control.find({ _id: { $in: [...new Set(keys)].map((k) => holdId(projection, k)) } }).toArray();
      return new Set(docs.map((d) => String(d.key)));
    },
    async hold(projection, key) {
      await control.replaceOne({ _id: holdId(projection, key) }, { kind: 'hold', projection, key, at: new Date(now()) }, { upsert: true });
    },
  };
}

/** Releases the holds of `projection` whose key satisfies `matches` (all when absent); returns how many. */
export async function releaseHolds(control: Collection, projection: string, matches?: (key: string) => boolean): Promise<number> {
  const docs = await control.find({ kind: 'hold', projection }).toArray();
  const ids = docs.filter((d) => matches === undefined || matches(String(d.key))).map((d) => d._id);
  if (ids.length === 0) return 0;
  return (await control.deleteMany({ _id: { $in: ids } })).deletedCount;
}
