/**
 * The port's `FindCursor` over a driver cursor: documents come out with the port's bson classes and errors as
 * `MiaRunError`s. Streaming stays lazy: the driver fetches batches as the loop advances. The driver cursor
 * may still be in the making (its filter can need the collection's TTL indexes first), hence the promise.
 */
import type { AbstractCursor, Document as DriverDocument } from 'mongodb';
import type { Document, FindCursor } from '../../ports/document-store.js';
import { toPortDocument } from './bson-values.js';
import { mapMongoError } from './map-error.js';

export class MongoFindCursor implements FindCursor {
  private readonly cursor: Promise<AbstractCursor<DriverDocument>>;

  constructor(cursor: Promise<AbstractCursor<DriverDocument>>, private readonly context: string) {
    this.cursor = cursor;
    // Failures surface on first use; this keeps an unused failed cursor from being an unhandled rejection.
    cursor.catch(() => undefined);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Document> {
    let cursor: AbstractCursor<DriverDocument> | undefined;
    try {
      cursor = await this.cursor;
      for await (const doc of cursor) yield toPortDocument(doc as Document);
    } catch (error) {
      throw mapMongoError(error, 'read', this.context);
    } finally {
      // An abandoned loop (break, throw) closes the server-side cursor.
      await cursor?.close().catch(() => undefined);
    }
  }

  async toArray(): Promise<Document[]> {
    try {
      const docs = await (await this.cursor).toArray();
      return docs.map((doc) => toPortDocument(doc as Document));
    } catch (error) {
      throw mapMongoError(error, 'read', this.context);
    }
  }

  async close(): Promise<void> {
    const cursor = await this.cursor.catch(() => undefined);
    await cursor?.close().catch(() => undefined);
  }
}
