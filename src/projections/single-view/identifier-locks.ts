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
  // key -> the tail of its queue: resolves when the current holder releases.
  const tails = new Map<string, Promise<void>>();
  const lockOne = async (key: string): Promise<() => void> => {
    const previous = tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    tails.set(key, mine);
    if (previous !== undefined) await previous;
    return () => {
      if (tails.get(key) === mine) tails.delete(key);
      release();
    };
  };
  return {
    async acquire(keys) {
      const sorted = [...new Set(keys)].sort();
      const releases: (() => void)[] = [];
      for (const key of sorted) releases.push(await lockOne(key));
      return () => {
        for (const release of releases.splice(0)) release();
      };
    },
  };
}
