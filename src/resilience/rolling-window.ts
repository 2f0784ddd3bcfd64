import type { Clock } from '../ports/clock.js';

/**
 * Counters over the last `windowMs` of clock time, kept in `buckets` slots so memory is fixed and old
 * counts fall out without timers (read-time expiry, like resilience4j's time-based sliding window).
 */
export class RollingWindow<K extends string> {
  readonly #clock: Clock;
  readonly #slotMs: number;
  readonly #keys: readonly K[];
  /** Per slot: the slot's start epoch (in slot units) and one counter per key. */
  readonly #slots: { epoch: number; counts: number[] }[];

  constructor(clock: Clock, windowMs: number, keys: readonly K[], buckets = 10) {
    this.#clock = clock;
    this.#keys = keys;
    this.#slotMs = Math.max(1, Math.ceil(windowMs / buckets));
    this.#slots = Array.from({ length: buckets }, () => ({ epoch: -1, counts: keys.map(() => 0) }));
  }

  /** Adds `n` to counter `key` in the current slot. */
  add(key: K, n = 1): void {
    const epoch = Math.floor(this.#clock.now() / this.#slotMs);
    const slot = this.#slots[epoch % this.#slots.length]!;
    if (slot.epoch !== epoch) {
      slot.epoch = epoch;
      slot.counts.fill(0);
    }
    slot.counts[this.#keys.indexOf(key)]! += n;
  }

  /** Sum of each counter over the slots still inside the window. */
  totals(): Record<K, number> {
    const current = Math.floor(this.#clock.now() / this.#slotMs);
    const out = Object.fromEntries(this.#keys.map((k) => [k, 0])) as Record<K, number>;
    for (const slot of this.#slots) {
      if (slot.epoch < 0 || current - slot.epoch >= this.#slots.length) continue;
      this.#keys.forEach((k, i) => (out[k] += slot.counts[i]!));
    }
    return out;
  }

  reset(): void {
    for (const slot of this.#slots) slot.epoch = -1;
  }
}
