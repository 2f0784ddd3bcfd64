/** An in-memory `Kv` (sorted keys) that counts what reads touch, for planner and engine tests. */
import type { Kv, KvEntry } from '../../../../src/adapters/store-embedded/kv.js';

export class MemoryKv implements Kv {
  readonly #map = new Map<string, Buffer>();
  #sorted: string[] | undefined;
  /** Entries returned by range scans and point reads since the last reset. */
  touched = 0;

  get(key: Buffer): Buffer | undefined {
    this.touched++;
    return this.#map.get(key.toString('hex'));
  }

  *range(start: Buffer, end: Buffer, reverse = false): Iterable<KvEntry> {
    this.#sorted ??= [...this.#map.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')));
    const keys = this.#sorted.filter((k) => {
      const b = Buffer.from(k, 'hex');
      return Buffer.compare(b, start) >= 0 && Buffer.compare(b, end) < 0;
    });
    if (reverse) keys.reverse();
    for (const k of keys) {
      this.touched++;
      yield { key: Buffer.from(k, 'hex'), value: this.#map.get(k)! };
    }
  }

  put(key: Buffer, value: Buffer): void {
    this.#map.set(key.toString('hex'), value);
    this.#sorted = undefined;
  }

  remove(key: Buffer): void {
    this.#map.delete(key.toString('hex'));
    this.#sorted = undefined;
  }
}
