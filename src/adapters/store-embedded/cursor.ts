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

  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const item of this) out.push(item);
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#iterator?.return?.(undefined);
  }
}
