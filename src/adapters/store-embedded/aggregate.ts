/**
 * Read-only aggregation on the embedded store (views): a leading `$match` goes through the planner (indexes,
 * text, geo, TTL), the rest of the pipeline runs in mingo; `$lookup` reads other collections of the same
 * database. Writing stages (`$out`, `$merge`) are rejected.
 */
import { Aggregator } from 'mingo';
import type { Document, Filter } from '../../ports/document-store.js';
import { CollectionEngine, type EngineContext } from './engine.js';
import { isPlainObject } from './key-encoding.js';
import type { Kv } from './kv.js';
import { invalidQuery } from './query.js';

const WRITING_STAGES = new Set(['$out', '$merge']);

export function runAggregate(kv: Kv, ctx: EngineContext, collection: string, pipeline: readonly Document[]): Document[] {
  if (!Array.isArray(pipeline)) throw invalidQuery('A pipeline must be an array of stages');
  for (const stage of pipeline) {
    if (!isPlainObject(stage) || Object.keys(stage).length !== 1) throw invalidQuery('Each pipeline stage must be an object with exactly one operator');
    const op = Object.keys(stage)[0]!;
    if (WRITING_STAGES.has(op)) throw invalidQuery(`${op} is not allowed: aggregate pipelines are read-only`);
  }
  const [first, ...rest] = pipeline;
  const leadingMatch = first !== undefined && '$match' in first ? (first.$match as Filter) : undefined;
  // `$count` as `$group` + `$project`: over no documents MongoDB yields nothing, mingo's `$count` yields `{ n: 0 }`.
  const stages = (leadingMatch === undefined ? pipeline : rest).flatMap((stage) =>
    typeof stage.$count === 'string' ? [{ $group: { _id: null, [stage.$count]: { $sum: 1 } } }, { $project: { _id: 0 } }] : [stage],
  );
  const read = (name: string, filter?: Filter): Document[] => [...new CollectionEngine(ctx, name).find(kv, filter)].map((h) => h.doc);
  const docs = read(collection, leadingMatch);
  if (stages.length === 0) return docs;
  try {
    return new Aggregator([...stages], { scriptEnabled: false, collectionResolver: (name: string) => read(name) }).run(docs) as Document[];
  } catch (cause) {
    throw invalidQuery(`Invalid pipeline: ${(cause as Error).message}`, cause);
  }
}
