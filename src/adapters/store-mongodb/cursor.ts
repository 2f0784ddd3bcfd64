/**
 * The port's `FindCursor` over a driver cursor: documents come out with the port's bson classes and errors as
 * `MiaRunError`s. Streaming stays lazy: the driver fetches batches as the loop advances.
 */
import type { AbstractCursor, Document as DriverDocument } from 'mongodb';
import type { Document, FindCursor } from '../../ports/document-store.js';
import { toPortDocument } from './bson-values.js';
import { mapMongoError } from './map-error.js';

export class MongoFindCursor implements FindCursor {
  constructor(
    private readonly cursor: AbstractCursor<DriverDocument>,
    private readonly context: string,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Document> {
    try {
      for await (const doc of this.cursor) yield toPortDocument(doc as Document);
    } catch (error) {
      throw mapMongoError(error, 'read', this.context);
    } finally {
      // An abandoned loop (break, throw) closes the server-side cursor.
      await this.cursor.close().catch(() => undefined);
    }
  }

  async toArray(): Promise<Document[]> {
    try {
      const docs = await this.cursor.toArray();
      return docs.map((doc) => toPortDocument(doc as Document));
    } catch (error) {
      throw mapMongoError(error, 'read', this.context);
    }
  }

  async close(): Promise<void> {
    await this.cursor.close().catch(() => undefined);
  }
}

/** A cursor that fails on first use: for calls rejected before reaching the driver (store not started, bad pipeline). */
export class FailedCursor implements FindCursor {
  constructor(private readonly error: Error) {}

  // eslint-disable-next-line require-yield -- throws before the first value on purpose
  async *[Symbol.asyncIterator](): AsyncIterator<Document> {
    throw this.error;
  }

  async toArray(): Promise<Document[]> {
    throw this.error;
  }

  async close(): Promise<void> {}
}
