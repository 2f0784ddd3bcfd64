/**
 * The projections capability (role `projections`, fast-data.md): one consumer group per system of record
 * (`<project>.<sor>.projections`) turns CDC messages into projections; every change recomputes the single
 * views it affects. Routes: one read plugin per projection and per view name (gateway targets
 * `{ projection }` / `{ view }`). Hooks load and indexes are created in `start()`; the factory only wires.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { FastDataConfig, SystemOfRecordConfig } from '../config/sections/fast-data.js';
import { MiaRunError } from '../errors.js';
import type { CapabilityContext } from '../ports/capability-context.js';
import { isDocumentStore, type Collection, type DocumentStore } from '../ports/document-store.js';
import type { EventBus, Subscription } from '../ports/event-bus.js';
import type { Capability } from '../ports/lifecycle.js';
import { createMetricEmitter } from '../ports/telemetry.js';
import { builtinCast, type CastFn } from './casts.js';
import { BUILTIN_FORMATS, customParser, type FormatParser, type MessageAdapter } from './formats/index.js';
import { loadHook, loadHooks } from './hooks.js';
import { projectionIndexes, viewIndexes } from './indexes.js';
import { createDeadLetters } from './dead-letters.js';
import { createIngestHandler } from './ingest.js';
import { PARKED_COLLECTION, createParking, startParkingWorker } from './parking.js';
import { produceRecorded } from './journal.js';
import { createKeyHolds } from './key-holds.js';
import { createFastDataOperations, JOURNAL_COLLECTION, type FastDataOperations } from './operations/index.js';
import { adminRoutes } from './operations/admin-routes.js';
import { CONTROL_COLLECTION } from './operations/control.js';
import { createLive, type Live } from './operations/live.js';
import { recomputeAll, refreshView } from './operations/refresh.js';
import { fastDataTargets } from './operations/targets.js';
import { createInterop, isExternal, relationIndexes } from './topics/index.js';
import { compileProjection, type CompiledProjection, type MappingStats } from './mapping.js';
import { readRoutes } from './read-routes.js';
import type { AggregationFn } from './single-view/aggregate.js';
import { compileView, type CompiledView } from './single-view/model.js';
import { createSvErrorLog, SV_ERRORS_COLLECTION } from './single-view/errors-log.js';
import { guardedRecompute, SV_RETRY_COLLECTION, type GuardedDeps } from './single-view/guard.js';
import { createIdentifierLocks } from './single-view/identifier-locks.js';
import { createRetryWorker, type RetryWorker } from './single-view/retry-worker.js';
import type { ValidatorFn } from './single-view/writer.js';

const metrics = createMetricEmitter('fd');

/** Tries of a retriable ingestion failure before the message is dead-lettered (fast-data.md §6). */
const INGEST_ATTEMPTS = 5;
/** Messages per ingestion batch: large enough to amortise the prefetch query and the bulk write. */
const INGEST_BATCH = 2000;

/** Consumer group of a system of record. */
export const sorGroup = (project: string, sor: string): string => `${project}.${sor}.projections`;

/**
 * Wires projections and single views. No I/O until `start()`.
 *
 * @example
 * const fd = createProjections(ctx);
 * await fd.start(); // hooks, indexes, one consumer group per system of record
 */
export function createProjections(ctx: CapabilityContext): Capability {
  const fastData: FastDataConfig = ctx.config.fastData ?? {};
  const sors = Object.entries(fastData.systemsOfRecord ?? {});
  const viewConfigs = Object.entries(fastData.singleViews ?? {});
  const bus = ctx.bus.kind.startsWith('bus.') ? (ctx.bus as EventBus) : undefined;
  const storeOf = (database: string | undefined, what: string): DocumentStore => {
    const store = ctx.stores.get(database ?? 'default');
    if (store === undefined || !isDocumentStore(store)) throw new MiaRunError('MR_RUNTIME_START', `${what}: database "${database ?? 'default'}" is not a document store`);
    return store;
  };

  const projectionMeta = new Map<string, { sor: SystemOfRecordConfig; collection: string; primaryKey: readonly string[] }>();
  for (const [, sor] of sors) for (const [name, p] of Object.entries(sor.projections)) projectionMeta.set(name, { sor, collection: p.collection ?? name, primaryKey: p.primaryKey });
  const projectionCollection = (name: string) => {
    const meta = projectionMeta.get(name);
    if (meta === undefined) throw new MiaRunError('MR_RUNTIME_START', `unknown projection "${name}"`);
    return storeOf(meta.sor.database, `projection "${name}"`).collection(meta.collection);
  };

  const routes = new Map<string, FastifyPluginAsync>();
  for (const [name, meta] of projectionMeta) routes.set(name, readRoutes({ kind: 'projection', name, keyFields: meta.primaryKey, collection: () => projectionCollection(name) }));
  for (const [name, view] of viewConfigs) {
    routes.set(name, readRoutes({ kind: 'view', name, keyFields: Object.keys(view.key), collection: () => storeOf(view.database, `single view "${name}"`).collection(view.collection ?? name) }));
  }

  // Operations (fast-data.md §7): `/-/fast-data/` admin routes, live once started.
  const targets = fastDataTargets(ctx.config.name, fastData);
  const sorSubscriptions = new Map<string, Subscription>();
  let operations: FastDataOperations | undefined;
  let live: Live | undefined;
  routes.set('/-/fast-data', adminRoutes({
    operations: () => {
      if (operations === undefined) throw new MiaRunError('MR_FD_OPERATION_UNAVAILABLE', 'fast data is not running in this process');
      return operations;
    },
    backoffice: ctx.config.server.backofficePort !== undefined,
  }));

  const views: CompiledView[] = viewConfigs.map(([name, config]) => compileView(name, config));
  const viewsByProjection = new Map<string, CompiledView[]>();
  for (const view of views) for (const p of view.paths.keys()) viewsByProjection.set(p, [...(viewsByProjection.get(p) ?? []), view]);

  const subscriptions: Subscription[] = [];
  const parkingWorkers: { stop(): Promise<void> }[] = [];
  let retryWorker: RetryWorker | undefined;
  const svLocks = createIdentifierLocks();
  const stats: MappingStats = {
    onUncastable: (projection, field) => metrics.count('unmapped', 'Dropped or uncastable source fields', { projection, field, type: 'UNCASTABLE_FIELD' }),
    onUnknown: (projection, field) => metrics.count('unmapped', 'Dropped or uncastable source fields', { projection, field, type: 'UNKNOWN_FIELD' }),
  };
  const now = (): Date => new Date(ctx.clock.now());

  return {
    name: 'projections',
    routes,
    async start() {
      const source = ctx.config.sourceFile;
      const customCasts = await loadHooks<CastFn>(fastData.casts, source, 'cast');
      const functions = await loadHooks<AggregationFn>(fastData.functions, source, 'function');
      const castOf = (name: string): CastFn => {
        const cast = customCasts.get(name) ?? builtinCast(name);
        if (cast === undefined) throw new MiaRunError('MR_RUNTIME_START', `unknown cast "${name}"`);
        return cast;
      };
      const compiled = new Map<string, CompiledProjection>();
      for (const [sorName, sor] of sors) for (const [name, p] of Object.entries(sor.projections)) compiled.set(name, compileProjection(name, sorName, p, castOf));
      // A view read by another view (SV chaining, fast-data.md §4) is a projection keyed by the view's key.
      const handleOf = (name: string) => {
        const chained = projectionMeta.has(name) ? undefined : views.find((v) => v.name === name);
        if (chained !== undefined) return { collection: storeOf(chained.config.database, `single view "${name}"`).collection(chained.config.collection ?? name), primaryKey: Object.keys(chained.key) };
        return { collection: projectionCollection(name), primaryKey: projectionMeta.get(name)?.primaryKey ?? [] };
      };
      const svDeps = new Map<CompiledView, GuardedDeps & { readonly collection: Collection }>();
      const retries = views.length > 0 ? storeOf(undefined, 'single-view retries').collection(SV_RETRY_COLLECTION) : undefined;
      for (const view of views) {
        const svStore = storeOf(view.config.database, `single view "${view.name}"`);
        const validator = view.config.validator === undefined ? undefined : (functions.get(view.config.validator) as unknown as ValidatorFn | undefined);
        svDeps.set(view, {
          projection: handleOf, functions, logger: ctx.logger.child({ view: view.name }), collection: svStore.collection(view.config.collection ?? view.name), now, origin: ctx.config.name,
          ...(validator === undefined ? {} : { validator }),
          errors: createSvErrorLog(svStore.collection(view.config.errors?.collection ?? SV_ERRORS_COLLECTION), ctx.config.name, now),
          ...(retries === undefined ? {} : { failures: { clock: ctx.clock, retries, ...(bus === undefined ? {} : { bus }) } }),
        });
      }
      if (retries !== undefined) {
        await retries.ensureIndexes([{ name: 'fd_sv_retries_due', key: { notBefore: 1 } }]);
        retryWorker = createRetryWorker({ views, deps: (view) => svDeps.get(view)!, retries, clock: ctx.clock, locks: svLocks, ...(bus === undefined ? {} : { bus }), logger: ctx.logger.child({ component: 'sv-retries' }) });
        retryWorker.start();
      }
      // External projections (written by a Mia Real-Time Updater) keep their writer's key and counter
      // indexes; they and views read by other views get the relation indexes of their readers.
      for (const p of compiled.values()) {
        const specs = isExternal(fastData, p.name) ? relationIndexes(p.name, p.primaryKey, viewsByProjection.get(p.name) ?? []) : projectionIndexes(p, viewsByProjection.get(p.name) ?? []);
        if (specs.length > 0) await projectionCollection(p.name).ensureIndexes(specs);
      }
      for (const view of views) await storeOf(view.config.database, `single view "${view.name}"`).collection(view.config.collection ?? view.name).ensureIndexes([...viewIndexes(view), ...relationIndexes(view.name, Object.keys(view.key), viewsByProjection.get(view.name) ?? [])]);
      // Without projections or views there is nothing to consume, journal or control.
      if (bus === undefined || (sors.length === 0 && views.length === 0)) return;
      const interop = createInterop({ project: ctx.config.name, fastData, views, viewsOf: (p) => viewsByProjection.get(p) ?? [], svDeps: (view) => svDeps.get(view)!, recompute: guardedRecompute, bus, collectionOf: projectionCollection, now: () => ctx.clock.now(), metrics });
      const deadLetters = createDeadLetters({ bus, metrics, logger: ctx.logger, now: () => ctx.clock.now() });
      const journal = storeOf(undefined, 'trigger journal').collection(JOURNAL_COLLECTION);
      const viewByName = new Map(views.map((v) => [v.name, v]));
      const refreshDeps = (name: string) => {
        const view = viewByName.get(name);
        if (view === undefined) throw new MiaRunError('MR_FD_UNKNOWN_NAME', `"${name}" is not a single view`);
        return { view, writer: svDeps.get(view)!, recompute: interop.recompute, bus: interop.bus, metrics };
      };
      live = createLive({
        targets, bus, clock: ctx.clock, logger: ctx.logger.child({ component: 'fast-data-operations' }), metrics,
        control: storeOf(undefined, 'fast data control').collection(CONTROL_COLLECTION), journal, subscriptions: sorSubscriptions,
        viewsOf: (p) => (viewsByProjection.get(p) ?? []).map((v) => v.name),
        refresh: (view) => refreshView(refreshDeps(view)),
        drain: async (view) => {
          const entries = await journal.find({ view }).toArray();
          if (entries.length === 0) return;
          await produceRecorded(interop.bus, entries);
          await recomputeAll(refreshDeps(view), entries.map((e) => e.identifier as Record<string, unknown>));
          await journal.deleteMany({ _id: { $in: entries.map((e) => e._id) } });
        },
      });
      await live.pause.refresh();
      if (sors.length > 0) await storeOf(undefined, 'parked ingestion keys').collection(PARKED_COLLECTION).ensureIndexes([{ name: 'fd_parked_due', key: { notBefore: 1 } }, { name: 'fd_parked_partition', key: { topic: 1, partition: 1 } }]);
      for (const [sorName, sor] of sors) {
        const parser: FormatParser = sor.format === 'custom'
          ? customParser(await loadHook<MessageAdapter>(sor.adapter ?? { module: '' }, source, `adapter of "${sorName}"`, 'messageAdapter'), ctx.logger.child({ sor: sorName }))
          : BUILTIN_FORMATS[sor.format];
        const mine = [...compiled.values()].filter((p) => p.sor === sorName && !isExternal(fastData, p.name));
        if (mine.length === 0) continue;
        const store = storeOf(sor.database, `system of record "${sorName}"`);
        const handler = createIngestHandler({
          sor: sorName,
          parser,
          position: sor.position ?? (sor.format === 'golden-gate' ? 'pos' : 'kafkaTimestamp'),
          byTopic: new Map(mine.map((p) => [p.topic, p])),
          applyDeps: (p, buffer) => ({ collection: buffer(store.collection(p.collection)), deleteMode: sor.delete ?? 'soft', now, stats, logger: ctx.logger.child({ projection: p.name }) }),
          viewsOf: (p) => viewsByProjection.get(p) ?? [],
          svDeps: (view) => svDeps.get(view)!,
          recompute: interop.recompute,
          bus: interop.bus,
          stageEvents: interop.stageEvents,
          svLocks,
          ...(views.length > 0 ? { journal: storeOf(undefined, 'trigger journal').collection('fd-sv-journal') } : {}),
          now: () => ctx.clock.now(),
          metrics,
          logger: ctx.logger.child({ sor: sorName }),
          deadLetter: deadLetters,
          attempts: INGEST_ATTEMPTS,
          sleep: (ms, signal) => ctx.clock.sleep(ms, signal),
          pause: live.pause,
          holds: createKeyHolds(storeOf(undefined, 'fast data control').collection(CONTROL_COLLECTION), () => ctx.clock.now()),
          parking: createParking(storeOf(undefined, 'parked ingestion keys').collection(PARKED_COLLECTION), { now: () => ctx.clock.now(), delayMs: 5000 }),
          bulk: live.bulk,
        });
        parkingWorkers.push(startParkingWorker(ctx.clock, 1000, handler.runParked, ctx.logger.child({ sor: sorName, component: 'parked-keys' })));
        const topics = [...new Set(mine.map((p) => p.topic))];
        const subscription = await bus.subscribe({ group: sorGroup(ctx.config.name, sorName), topics, fromBeginning: true, handler, maxBatchSize: INGEST_BATCH, deadLetter: { attempts: INGEST_ATTEMPTS } });
        sorSubscriptions.set(sorName, subscription);
        subscriptions.push(subscription);
      }
      const pauseState = live.pause;
      subscriptions.push(...(await interop.subscribe({ isPaused: (kind, name) => pauseState.isPaused(kind, name), sleep: (ms, signal) => ctx.clock.sleep(ms, signal) })));
      await live.start();
      operations = createFastDataOperations({
        targets, store: (db) => storeOf(db, 'fast data operations'), bus, clock: ctx.clock, metrics, live, onPauseChange: () => live!.pause.refresh(),
        writer: (name) => {
          const { view, writer } = refreshDeps(name);
          return { view, deps: writer };
        },
        recompute: interop.recompute,
        viewEvents: interop.bus,
      });
    },
    async stop() {
      live?.stop();
      operations = undefined;
      await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
      await Promise.all(parkingWorkers.splice(0).map((w) => w.stop()));
      await retryWorker?.stop();
    },
    async health() {
      return { name: 'projections', status: 'OK', message: `${projectionMeta.size} projection(s), ${views.length} single view(s)` };
    },
  };
}
