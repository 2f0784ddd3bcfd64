/**
 * A `FindCursor` over a synchronous generator of results. Iteration pulls results lazily and yields to the
 * event loop every `CHUNK` documents, so a large scan streams without blocking other requests for long.
 */
import type { FindCursor } from '../../ports/document-store.js';

const CHUNK = 256;

export class GeneratorCursor<T> implements FindCursor<T> {
  #iterator: Iterator<T> | undefined;
  #closed = false;
  #used = false;

  constructor(private readonly open: () => Iterator<T>) {}

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#used) throw new Error('A cursor can be iterated only once');
    this.#used = true;
    try {
      if (this.#closed) return;
      const iterator = (this.#iterator = this.open());
      let n = 0;
      for (;;) {
        if (this.#closed) return;
        const next = iterator.next();
        if (next.done === true) return;
        yield next.value;
        if (++n % CHUNK === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      await this.close();
    }
  }

  /** Drains the results synchronously, `CHUNK` at a time (no promise per document, unlike `for await`). */
  async toArray(): Promise<T[]> {
    if (this.#used) throw new Error('A cursor can be iterated only once');
    this.#used = true;
    const out: T[] = [];
    try {
      if (this.#closed) return out;
      const iterator = (this.#iterator = this.open());
      for (;;) {
        for (let n = 0; n < CHUNK; n++) {
          if (this.#closed) return out;
          const next = iterator.next();
          if (next.done === true) return out;
          out.push(next.value);
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#iterator?.return?.(undefined);
  }
}
