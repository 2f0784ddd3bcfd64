// A projection pipeline on a real embedded store, fed with hand-built consumed messages (no bus), so tests
// control offsets, partitions and timestamps exactly (out-of-order, duplicates, redeliveries).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedDocumentStore } from '../../../src/adapters/store-embedded/index.js';
import { createConsumedMessage } from '../../../src/bus/message.js';
import type { FastDataPosition, ProjectionConfig, SingleViewConfig } from '../../../src/config/sections/fast-data.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { Document, DocumentStore } from '../../../src/ports/document-store.js';
import type { ConsumedMessage } from '../../../src/ports/event-bus.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { createMetricEmitter } from '../../../src/ports/telemetry.js';
import { builtinCast, type CastFn } from '../../../src/projections/casts.js';
import type { FormatParser } from '../../../src/projections/formats/index.js';
import { createIngestHandler } from '../../../src/projections/ingest.js';
import { compileProjection } from '../../../src/projections/mapping.js';
import type { AggregationFn } from '../../../src/projections/single-view/aggregate.js';
import { compileView } from '../../../src/projections/single-view/model.js';
import { recompute, type WriterDeps } from '../../../src/projections/single-view/writer.js';

export interface Harness {
  readonly store: DocumentStore;
  /** Feeds one batch (of one partition) to the handler. */
  feed(messages: readonly ConsumedMessage[]): Promise<void>;
  docs(collection: string, filter?: Document): Promise<Document[]>;
  readonly unmapped: string[];
  close(): Promise<void>;
}

let offsets = 0;
/** A consumed message; `value` objects are JSON-encoded, strings sent as text, null a tombstone. */
export function msg(topic: string, key: unknown, value: unknown, options: { timestamp?: number; offset?: number; partition?: number } = {}): ConsumedMessage {
  return createConsumedMessage({
    topic,
    partition: options.partition ?? 0,
    offset: options.offset ?? offsets++,
    key: key === null ? null : typeof key === 'string' ? key : JSON.stringify(key),
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: {},
    timestamp: options.timestamp ?? 1_700_000_000_000 + offsets,
  });
}

export interface HarnessOptions {
  readonly parser: FormatParser;
  readonly projections: Readonly<Record<string, ProjectionConfig>>;
  readonly views?: Readonly<Record<string, SingleViewConfig>>;
  readonly position?: FastDataPosition;
  readonly deleteMode?: 'soft' | 'hard';
  readonly casts?: Readonly<Record<string, CastFn>>;
  readonly functions?: ReadonlyMap<string, AggregationFn>;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'mia-run-fd-unit-'));
  const store = createEmbeddedDocumentStore('default', { kind: 'embedded', path: dir }, { dataDir: dir, clock: systemClock, logger: silentLogger });
  await store.start();
  const castOf = (name: string): CastFn => options.casts?.[name] ?? builtinCast(name) ?? ((v) => v);
  const compiled = Object.entries(options.projections).map(([name, p]) => compileProjection(name, 'sor', p, castOf));
  const views = Object.entries(options.views ?? {}).map(([name, v]) => compileView(name, v));
  const unmapped: string[] = [];
  const handleOf = (name: string) => ({ collection: store.collection(name), primaryKey: options.projections[name]?.primaryKey ?? [] });
  const svDeps = new Map(views.map((v): [typeof v, WriterDeps & { collection: ReturnType<DocumentStore['collection']> }] => [v, { projection: handleOf, functions: options.functions ?? new Map(), logger: silentLogger, collection: store.collection(v.name), now: () => new Date(), origin: 'test' }]));
  const handler = createIngestHandler({
    sor: 'sor',
    parser: options.parser,
    position: options.position ?? 'kafkaTimestamp',
    byTopic: new Map(compiled.map((p) => [p.topic, p])),
    applyDeps: (p, buffer) => ({
      collection: buffer(store.collection(p.collection)),
      deleteMode: options.deleteMode ?? 'soft',
      now: () => new Date(),
      stats: { onUncastable: (pr, f) => unmapped.push(`UNCASTABLE_FIELD ${pr}.${f}`), onUnknown: (pr, f) => unmapped.push(`UNKNOWN_FIELD ${pr}.${f}`) },
      logger: silentLogger,
    }),
    viewsOf: (p) => views.filter((v) => v.paths.has(p)),
    svDeps: (v) => svDeps.get(v)!,
    recompute,
    journal: store.collection('fd-sv-journal'),
    intentTimeoutMs: 0,
    metrics: createMetricEmitter('projections'),
    logger: silentLogger,
  });
  return {
    store,
    unmapped,
    feed: async (messages) => handler({ topic: messages[0]!.topic, partition: messages[0]!.partition, messages }, { signal: new AbortController().signal, attempt: 1 }),
    docs: async (collection, filter = {}) => (await store.collection(collection).find(filter, { sort: { _id: 1 } }).toArray()).map(({ _id, ...rest }) => (void _id, rest)),
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
