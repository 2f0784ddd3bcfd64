/**
 * Definition versions (flow-manager.md §7): a saga finishes on the machine it started with. Each definition a
 * process runs is recorded at start-up in `<saga collection>-definitions` (`_id` = the definition hash that
 * every saga document carries as `definitionVersion`, the machine stored as JSON text so that JSON Schema
 * keywords such as `$ref` need no escaping). A saga whose `definitionVersion` is not the current one is
 * stepped by its own definition, compiled on first use; one recorded by no process (a saga older than this
 * record) runs on the current definition.
 */
import type { SagaConfig } from '../config/sections/sagas.js';
import type { Collection } from '../ports/document-store.js';
import type { Logger } from '../ports/logger.js';
import { compileSaga, type CompiledSaga } from './compile.js';

export interface DefinitionVersions {
  /** Records the current definition (idempotent). */
  record(now: number): Promise<void>;
  /** The definition a saga with this `definitionVersion` runs on. */
  forVersion(hash: string): Promise<CompiledSaga>;
}

/** The collection of a saga's recorded definitions. */
export const definitionsCollectionName = (sagaCollection: string): string => `${sagaCollection}-definitions`;

export function createDefinitionVersions(current: CompiledSaga, collection: Collection, logger: Logger): DefinitionVersions {
  const compiled = new Map<string, Promise<CompiledSaga>>([[current.definitionHash, Promise.resolve(current)]]);

  const load = async (hash: string): Promise<CompiledSaga> => {
    const stored = await collection.findOne({ _id: hash });
    if (stored === null || typeof stored.definition !== 'string') return current;
    const machineDefinition = JSON.parse(stored.definition) as SagaConfig['machineDefinition'];
    try {
      return compileSaga(current.name, { ...current.config, machineDefinition });
    } catch (err) {
      logger.warn({ err, definitionVersion: hash }, 'a recorded saga definition no longer compiles; its sagas run on the current one');
      return current;
    }
  };

  return {
    async record(now) {
      const definition = JSON.stringify(current.config.machineDefinition);
      await collection.updateOne({ _id: current.definitionHash }, { $setOnInsert: { definition, recordedAt: new Date(now) } }, { upsert: true });
    },
    forVersion(hash) {
      let found = compiled.get(hash);
      if (found === undefined) {
        found = load(hash);
        compiled.set(hash, found);
        // A failed read is not remembered: the next saga of that version tries again.
        found.catch(() => compiled.delete(hash));
      }
      return found;
    },
  };
}
