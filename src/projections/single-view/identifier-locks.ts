/**
 * One recomputation per single-view identifier at a time in this process (fast-data.md §6 "one identifier is
 * computed by one worker at a time"): batches of different partitions, and the retry worker, take the locks
 * of the identifiers they recompute from before reading the stored document until their view writes are
 * flushed, so an older computation can never be written over a newer one. Locks are taken in key order,
 * so two batches with overlapping identifiers cannot deadlock. Across processes the journal claim of §4 is
 * what serialises them.
 */

export interface IdentifierLocks {
  /** Waits for every key (`<view>\0<identifier>`), then returns the function that releases them all. */
  acquire(keys: Iterable<string>): Promise<() => void>;
}

/** Creates the lock table of one process. */
export function createIdentifierLocks(): IdentifierLocks {
  // key -> the release promise of its current holder.
  const held = new Map<string, Promise<void>>();
  return {
    async acquire(keys) {
      const sorted = [...new Set(keys)].sort();
      const mine: string[] = [];
      let release!: () => void;
      // One promise for the whole set (released together): a free key costs a map entry, not an await.
      const done = new Promise<void>((resolve) => (release = resolve));
      for (const key of sorted) {
        // A key held by another computation is waited for (again if someone else took it first) before the next one is taken.
        for (let holder = held.get(key); holder !== undefined; holder = held.get(key)) await holder;
        held.set(key, done);
        mine.push(key);
      }
      return () => {
        for (const key of mine.splice(0)) if (held.get(key) === done) held.delete(key);
        release();
      };
    },
  };
}
