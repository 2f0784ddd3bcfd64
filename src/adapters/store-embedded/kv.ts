/**
 * The key-value view the embedded store's operations run against: the lmdb environment itself (inside a write
 * transaction callback, reads see that transaction's writes), or an overlay that stages a `withTransaction`
 * scope's writes in memory until commit.
 */
import type { RootDatabase } from 'lmdb';

export interface KvEntry {
  readonly key: Buffer;
  readonly value: Buffer;
}

export interface Kv {
  get(key: Buffer): Buffer | undefined;
  /** Entries with `start <= key < end`, ascending (or descending when `reverse`). Buffers are copies. */
  range(start: Buffer, end: Buffer, reverse?: boolean): Iterable<KvEntry>;
  put(key: Buffer, value: Buffer): void;
  remove(key: Buffer): void;
}

/** Direct lmdb access; writes are only valid inside a write transaction callback. */
export class LmdbKv implements Kv {
  constructor(private readonly db: RootDatabase<Buffer, Buffer>) {}

  get(key: Buffer): Buffer | undefined {
    const value = this.db.getBinary(key);
    return value === undefined ? undefined : (value as Buffer);
  }

  *range(start: Buffer, end: Buffer, reverse = false): Iterable<KvEntry> {
    const options = reverse ? { start: end, end: start, reverse: true, exclusiveStart: true, inclusiveEnd: true } : { start, end };
    for (const { key, value } of this.db.getRange(options)) {
      yield { key: Buffer.from(key), value: Buffer.from(value) };
    }
  }

  put(key: Buffer, value: Buffer): void {
    this.db.putSync(key, value);
  }

  remove(key: Buffer): void {
    this.db.removeSync(key);
  }
}

/**
 * Staged writes over a base view: reads see the staged writes; point reads of the base are recorded so that
 * commit can check nothing changed them meanwhile (optimistic concurrency). Range reads are not re-validated.
 */
export class OverlayKv implements Kv {
  readonly #staged = new Map<string, { key: Buffer; value: Buffer | null }>();
  readonly #reads = new Map<string, { key: Buffer; value: Buffer | undefined }>();

  constructor(private readonly base: Kv) {}

  get(key: Buffer): Buffer | undefined {
    const hex = key.toString('hex');
    const staged = this.#staged.get(hex);
    if (staged !== undefined) return staged.value ?? undefined;
    const value = this.base.get(key);
    if (!this.#reads.has(hex)) this.#reads.set(hex, { key, value });
    return value;
  }

  *range(start: Buffer, end: Buffer, reverse = false): Iterable<KvEntry> {
    const staged = [...this.#staged.values()]
      .filter((e) => Buffer.compare(e.key, start) >= 0 && Buffer.compare(e.key, end) < 0)
      .sort((a, b) => (reverse ? -1 : 1) * Buffer.compare(a.key, b.key));
    let i = 0;
    const before = (a: Buffer, b: Buffer): boolean => (reverse ? Buffer.compare(a, b) > 0 : Buffer.compare(a, b) < 0);
    for (const entry of this.base.range(start, end, reverse)) {
      while (i < staged.length && before(staged[i]!.key, entry.key)) {
        const s = staged[i++]!;
        if (s.value !== null) yield { key: s.key, value: s.value };
      }
      if (this.#staged.has(entry.key.toString('hex'))) continue;
      yield entry;
    }
    for (; i < staged.length; i++) {
      const s = staged[i]!;
      if (s.value !== null) yield { key: s.key, value: s.value };
    }
  }

  put(key: Buffer, value: Buffer): void {
    this.#staged.set(key.toString('hex'), { key, value });
  }

  remove(key: Buffer): void {
    this.#staged.set(key.toString('hex'), { key, value: null });
  }

  /** True when every recorded point read still has the same value in `current` (run inside the commit txn). */
  validate(current: Kv): boolean {
    for (const { key, value } of this.#reads.values()) {
      const now = current.get(key);
      if (now === undefined ? value !== undefined : value === undefined || !now.equals(value)) return false;
    }
    return true;
  }

  /** Applies the staged writes to `target` (inside the commit txn). */
  apply(target: Kv): void {
    for (const { key, value } of this.#staged.values()) {
      if (value === null) target.remove(key);
      else target.put(key, value);
    }
  }

  get size(): number {
    return this.#staged.size;
  }
}
