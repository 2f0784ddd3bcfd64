/**
 * Declared indexes at start-up (crud-api.md §1): created or rebuilt when changed; undeclared ones dropped
 * unless their name starts with `preserve_` (and never `_id_`).
 */
import type { Collection } from '../ports/document-store.js';
import type { Logger } from '../ports/logger.js';
import type { CollectionModel } from './model/collection-model.js';

export async function ensureIndexes(collection: Collection, model: CollectionModel, logger: Logger): Promise<void> {
  const declared = new Set(model.indexes.map((i) => i.name));
  const existing = await collection.listIndexes();
  for (const index of existing) {
    if (index.name === '_id_' || index.name.startsWith('preserve_') || declared.has(index.name)) continue;
    logger.info({ collection: model.name, index: index.name }, 'dropping undeclared index');
    await collection.dropIndex(index.name);
  }
  if (model.indexes.length > 0) await collection.ensureIndexes(model.indexes);
}
