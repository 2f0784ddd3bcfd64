/**
 * FIFO locks per topic-partition: work on one partition (a batch piece and its commit, a seek and its
 * commit, storing a start position) runs one at a time, in the order it was queued. A failed piece of work
 * does not block the next one.
 */
export class PartitionLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `work` after everything queued before it on `topic`/`partition`; resolves with its result. */
  run<T>(topic: string, partition: number, work: () => Promise<T>): Promise<T> {
    const key = `${topic}\u0000${partition}`;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return next;
  }
}
