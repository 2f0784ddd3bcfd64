/**
 * Notices messages appended by OTHER processes on the same bus directory (lmdb has no cross-process
 * notification): every `pollMs` of the Clock it reads the end offset of each partition of the watched topics
 * from a fresh snapshot and emits `append:<topic>` on the store's emitter when one moved. Appends made in this
 * process emit the event themselves at once. One poller per bus instance, one timer for all its consumers.
 */
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { LogStore } from './log-store.js';
import { readMeta } from './log-store.js';

export class AppendPoller {
  private readonly watched = new Map<string, number>();
  private readonly ends = new Map<string, number>();
  private timer: TimerHandle | null = null;

  constructor(
    private readonly store: LogStore,
    private readonly clock: Clock,
    private readonly pollMs: number,
  ) {}

  /** Starts watching `topics`; returns the function that stops watching them. */
  watch(topics: readonly string[]): () => void {
    for (const topic of topics) this.watched.set(topic, (this.watched.get(topic) ?? 0) + 1);
    this.schedule();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const topic of topics) {
        const count = (this.watched.get(topic) ?? 1) - 1;
        if (count > 0) this.watched.set(topic, count);
        else this.watched.delete(topic);
      }
      if (this.watched.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer !== null || this.watched.size === 0) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      try {
        this.poll();
      } finally {
        this.schedule();
      }
    }, this.pollMs);
  }

  private poll(): void {
    const { store } = this;
    store.root.resetReadTxn();
    for (const topic of this.watched.keys()) {
      const partitions = store.topics.get(topic)?.partitions ?? 0;
      let moved = false;
      for (let p = 0; p < partitions; p++) {
        const key = `${topic}\u0000${p}`;
        const end = readMeta(store, topic, p).next;
        // The first reading counts as a move too: a consumer may have gone idle just before that append.
        if (this.ends.get(key) !== end) moved = true;
        this.ends.set(key, end);
      }
      if (moved) store.events.emit(`append:${topic}`);
    }
  }
}
