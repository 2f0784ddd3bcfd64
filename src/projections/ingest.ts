/**
 * The ingestion handler of one system of record (fast-data.md §2-§6). Per batch:
 * 1. every message is parsed by the SoR's format and the stored records it targets are read with one query
 *    per projection (`WriteBuffer.prefetch`), not one read per message;
 * 2. messages are applied by key (one key in order, keys concurrently) with the stale guard; bursts on one
 *    key coalesce in the write buffer (one write per key per batch);
 * 3. identifiers reached from pre-images whose routes may change are recorded in the trigger journal, the
 *    projection writes are flushed, then every affected single view identifier is claimed in the journal
 *    (`journal.ts`: one computation per identifier across processes), recomputed once and written in one
 *    `bulkWrite` per view, with its sv-update events recorded on the journal entry before the write and
 *    produced after it (the outbox);
 * only then does the batch resolve, so the bus commits offsets after the effects. Poison messages go to the
 * projection's dead-letter topic (`dead-letters.ts`) and the partition keeps flowing; a retriable failure
 * parks its key (`parking.ts`; without parking it fails the batch and the bus retries it) and is
 * dead-lettered once its tries are exhausted.
 * Paused projections hold their partitions; paused views keep their identifiers in the journal (§7).
 */
import { isDeepStrictEqual } from 'node:util';
import type { FastDataPosition } from '../config/sections/fast-data.js';
import type { Collection } from '../ports/document-store.js';
import { MiaRunError, isMiaRunError } from '../errors.js';
import type { BatchHandler, ConsumedMessage, EventBus, HandlerContext as BatchContext, MessageBatch as Batch, OutgoingMessage } from '../ports/event-bus.js';
import type { Parking, ParkedKey } from './parking.js';
import type { Logger } from '../ports/logger.js';
import type { MetricEmitter } from '../ports/telemetry.js';
import { applyChange, targetKeys, type ApplyDeps, type Position, type ProjectionChange } from './apply.js';
import type { DeadLetterFn } from './dead-letters.js';
import type { KeyHolds } from './key-holds.js';
import type { FormatParser, ParseResult, ParsedChange } from './formats/index.js';
import type { CompiledProjection } from './mapping.js';
import type { CompiledView } from './single-view/model.js';
import type { StageEvents } from './topics/index.js';
import type { IdentifierLocks } from './single-view/identifier-locks.js';
import { affectedIdentifiers, identifierKey } from './single-view/strategy.js';
import { prefetchAggregation } from './single-view/prefetch.js';
import type { PrefetchedRecords } from './single-view/aggregate.js';
import type { SvOutcome, WriterDeps } from './single-view/writer.js';
import { createWriteBuffer, type WriteBuffer } from './write-buffer.js';
import { claim, complete, markReady, record, recordedMessage, release, type RecordedEvent } from './journal.js';
import { failurePolicy } from './single-view/guard.js';
import { hasEventRecords } from './topics/view-runner.js';

/** Pause state read by running consumers (`operations/control.ts`). */
export interface PauseState {
  isPaused(kind: 'projection' | 'view', name: string): boolean;
}

export interface IngestDeps {
  readonly sor: string;
  readonly parser: FormatParser;
  readonly position: FastDataPosition;
  readonly byTopic: ReadonlyMap<string, CompiledProjection>;
  /** Apply dependencies of one batch (its `collection` is a write buffer flushed before strategies run). */
  readonly applyDeps: (projection: CompiledProjection, buffer: (collection: Collection) => WriteBuffer) => ApplyDeps;
  /** Views each projection contributes to. */
  readonly viewsOf: (projection: string) => readonly CompiledView[];
  readonly svDeps: (view: CompiledView) => WriterDeps & { readonly collection: Collection };
  readonly recompute: (view: CompiledView, identifier: Readonly<Record<string, unknown>>, deps: WriterDeps) => Promise<SvOutcome>;
  /** Where sv-update events go (after the view writes are durable). */
  readonly bus?: Pick<EventBus, 'publish'>;
  readonly metrics: MetricEmitter;
  readonly logger: Logger;
  /**
   * Trigger journal (fast-data.md §4): identifiers reached from pre-images are marked ready here before the
   * batch's projection writes, so a crash or failure in between cannot lose the old parent of a moved
   * foreign key; every recomputed identifier is claimed here and its sv-update events recorded (`journal.ts`).
   * Entries older than `intentTimeoutMs` (default 60 s) left by a failed or crashed run are recomputed by the
   * next batch.
   */
  readonly journal?: Collection;
  readonly intentTimeoutMs?: number;
  /** Wait between tries to claim identifiers another process is computing; default 20 ms. */
  readonly claimPollMs?: number;
  readonly now?: () => number;
  /** Recomputations run at once per batch; default 16. */
  readonly svConcurrency?: number;
  /** Per-identifier locks shared by every handler and the retry worker of this process. */
  readonly svLocks?: IdentifierLocks;
  /** Parks poison messages on the projection's dead-letter topic; without it they fail the batch (bus dead letters). */
  readonly deadLetter?: DeadLetterFn;
  /** Tries of a retriable failure before it is dead-lettered (the subscription's `deadLetter.attempts`); default 5. */
  readonly attempts?: number;
  readonly pause?: PauseState;
  /** Held keys of projections with `deadLetter.mode: holdKey` (`key-holds.ts`). */
  readonly holds?: KeyHolds;
  /**
   * Per-key parking (fast-data.md §6; needs `deadLetter`): a retriable failure parks its key instead of
   * failing the batch; `runParked` retries due keys, `attempts` tries in all, then dead-letters.
   */
  readonly parking?: Parking;
  /** More parked keys than this in one partition pauses it (default 1,000). */
  readonly maxParkedKeys?: number;
  /** Waits between pause checks (the Clock's `sleep`); default 250 ms steps. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * Projections in bulk mode (an initial load, fast-data.md §7): their changes run no strategies and
   * recompute no views (the load refreshes the affected views once it has caught up).
   */
  readonly bulk?: { has(projection: string): boolean };
  /** pr-update / sv-trigger events of one batch (fast-data.md §4): told of applied changes, published after the projection flush. */
  readonly stageEvents?: () => StageEvents;
}

/** The ordering position of a parsed change under the SoR's `position` setting (§2, §10). */
export function positionOf(change: ParsedChange, message: ConsumedMessage, configured: FastDataPosition, onFallback: () => void): Position {
  if (configured === 'offset') return { counter: message.offset, counterType: 'offset' };
  if (change.position !== null && change.counterType !== null && (configured !== 'kafkaTimestamp' || change.counterType === 'custom')) {
    return { counter: change.position, counterType: change.counterType };
  }
  if (configured !== 'kafkaTimestamp') onFallback();
  return { counter: message.timestamp, counterType: 'timestamp' };
}

async function pool<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

/** A store or bus outage is never dead-lettered: the batch fails and is retried (fast-data.md §6). */
const isOutage = (error: unknown): boolean => isMiaRunError(error) && error.code.endsWith('_UNAVAILABLE');

/**
 * True when the pre-image reaches exactly the identifiers the post-image reaches in `view`: same key (base)
 * or same linking fields, no `where`, no custom strategy. Such a change needs no journal intent: a replay
 * reaches the same identifiers from the stored record.
 */
function sameRoutes(view: CompiledView, change: ProjectionChange): boolean {
  const { before, after } = change;
  if (before === null || after === null) return false;
  if ((view.config as { strategies?: Record<string, unknown> }).strategies?.[change.projection] !== undefined) return false;
  const paths = view.paths.get(change.projection) ?? [];
  if (paths.length === 0) return false;
  for (const path of paths) {
    const node = path[path.length - 1]!;
    let fields: readonly string[];
    if (path.length === 1) fields = Object.values(view.key);
    else {
      const relation = node.relation;
      if (relation === undefined) return false;
      const mine = relation.from.projection === change.projection ? relation.from : relation.to;
      if ((relation.from as { where?: unknown }).where !== undefined || (relation.to as { where?: unknown }).where !== undefined) return false;
      fields = mine.fields;
    }
    if (fields.some((f) => !isDeepStrictEqual(before[f], after[f]))) return false;
  }
  return true;
}

/** One identifier to recompute in a batch; `jid` is its journal `_id`. */
interface Work {
  readonly view: CompiledView;
  readonly id: Record<string, unknown>;
  readonly jid: string;
  readonly source: number | undefined;
}

interface Item {
  readonly message: ConsumedMessage;
  readonly projection: CompiledProjection;
  readonly parsed?: ParseResult;
  readonly error?: unknown;
}

/** A retry of a parked key; `again` is set when it parks again (from `index` on, after `attempts` tries). */
interface Replay {
  readonly entry: ParkedKey;
  again?: { index: number; attempts: number; lastError: string };
}

/** The batch handler, plus the retry of due parked keys (called by the parking worker on the Clock). */
export type IngestHandler = BatchHandler & { readonly runParked: () => Promise<number> };

/** Builds the batch handler of one system of record. */
export function createIngestHandler(deps: IngestDeps): IngestHandler {
  const { metrics, logger } = deps;
  const now = deps.now ?? Date.now;
  const attempts = deps.attempts ?? 5;
  const sleep = deps.sleep ?? ((ms: number, signal: AbortSignal) => new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  }));
  const count = (projection: string, operation: string, result: string): void =>
    metrics.count('messages', 'CDC messages by projection, operation and result', { projection, operation, result });
  const viewByName = new Map<string, CompiledView>();
  for (const p of deps.byTopic.values()) for (const v of deps.viewsOf(p.name)) viewByName.set(v.name, v);
  const viewPaused = (view: string): boolean => deps.pause?.isPaused('view', view) === true;

  const records = deps.bus !== undefined && hasEventRecords(deps.bus) ? deps.bus : undefined;
  const toRecorded = (topic: string, message: OutgoingMessage): RecordedEvent => {
    const record = records?.describe(message);
    return { topic, key: message.key ?? null, value: message.value, ...(message.headers === undefined ? {} : { headers: message.headers as Record<string, string> }), ...(record === undefined ? {} : { record }) };
  };
  const fromRecorded = (event: RecordedEvent): OutgoingMessage => recordedMessage(event, deps.bus);

  /**
   * One computation round: claims what it can in the journal, recomputes the claimed identifiers, records
   * their sv-update events on the entries before the view writes (fast-data.md §5 outbox), flushes, produces
   * the events recorded by an earlier run first and then the new ones, and completes the entries.
   * Returns the identifiers another run holds.
   */
  const round = async (list: readonly Work[]): Promise<Work[]> => {
    const journal = deps.journal;
    const at = now();
    const claimed = journal === undefined ? undefined : await claim(journal, list.map((w) => ({ id: w.jid, view: w.view.name, identifier: w.id, until: at + 2 * failurePolicy(w.view).timeoutMs })), at);
    const mine = claimed === undefined ? list : list.filter((w) => claimed.owned.has(w.jid));
    try {
      const events = new Map<string, OutgoingMessage[]>();
      const add = (topic: string, message: OutgoingMessage): void => {
        const list = events.get(topic);
        if (list === undefined) events.set(topic, [message]);
        else list.push(message);
      };
      const outbox = new Map<string, RecordedEvent[]>();
      for (const w of mine) {
        const prior = claimed?.owned.get(w.jid)?.events ?? [];
        for (const event of prior) add(event.topic, fromRecorded(event));
      }
      const svBuffers = new Map<CompiledView, WriteBuffer>();
      const written: { view: string; source: number | undefined }[] = [];
      const ahead = new Map<CompiledView, PrefetchedRecords>();
      {
        const byView = new Map<CompiledView, Record<string, unknown>[]>();
        for (const w of mine) byView.set(w.view, [...(byView.get(w.view) ?? []), w.id]);
        for (const [view, ids] of byView) {
          const b = createWriteBuffer(deps.svDeps(view).collection);
          svBuffers.set(view, b);
          await b.prefetch(Object.keys(view.key), ids.map((id) => Object.fromEntries(Object.keys(view.key).map((k) => [k, id[k]]))));
          // Base and joined records of the whole batch: one query per tree node (single-view/prefetch.ts).
          ahead.set(view, await prefetchAggregation(view, ids, deps.svDeps(view)));
        }
        await pool(mine, deps.svConcurrency ?? 16, async ({ view, id, jid, source }) => {
          const started = performance.now();
          const outcome = await deps.recompute(view, id, { ...deps.svDeps(view), collection: svBuffers.get(view)!, prefetched: ahead.get(view) });
          metrics.observe('sv_compute_seconds', 'Single view recomputation time (read, aggregate, compare)', (performance.now() - started) / 1000, { view: view.name });
          metrics.count('sv', 'Single view recomputations by view and result', { view: view.name, result: outcome.result });
          if (outcome.result !== 'noop') written.push({ view: view.name, source });
          if (outcome.event !== undefined) {
            add(outcome.event.topic, outcome.event.message);
            outbox.set(jid, [...(claimed?.owned.get(jid)?.events ?? []), toRecorded(outcome.event.topic, outcome.event.message)]);
          }
        });
        if (journal !== undefined && claimed !== undefined) await record(journal, claimed.token, outbox);
        for (const b of svBuffers.values()) await b.flush();
      }
      const writtenAt = now();
      for (const w of written) if (w.source !== undefined) metrics.observe('ingest_to_sv_seconds', 'From the ingestion record timestamp to the single view write', Math.max(0, writtenAt - w.source) / 1000, { view: w.view });
      try {
        if (deps.bus !== undefined) for (const [topic, messages] of events) await deps.bus.publish(topic, messages);
      } catch (error) {
        // The events stay recorded on their journal entries and are produced by the next run (§5).
        const reason = error instanceof Error ? error.message : String(error);
        for (const w of mine) if (outbox.has(w.jid) || (claimed?.owned.get(w.jid)?.events.length ?? 0) > 0) await deps.svDeps(w.view).errors?.record(w.view.name, w.id, 'ERROR_SEND_SVC_EVENT', reason).catch(() => undefined);
        throw error;
      }
      if (journal !== undefined && claimed !== undefined) await complete(journal, claimed, mine.map((w) => w.jid));
    } catch (error) {
      if (journal !== undefined && claimed !== undefined) await release(journal, claimed).catch(() => undefined);
      throw error;
    }
    return claimed === undefined ? [] : list.filter((w) => !claimed.owned.has(w.jid));
  };

  const parse = async (message: ConsumedMessage): Promise<Item> => {
    const projection = deps.byTopic.get(message.topic);
    if (projection === undefined) throw new MiaRunError('MR_FD_INVALID_MESSAGE', `topic "${message.topic}" feeds no projection of "${deps.sor}"`, { retriable: false });
    try {
      const result = deps.parser(message, { primaryKeys: projection.sourceKeys, position: deps.position });
      return { message, projection, parsed: result instanceof Promise ? await result : result };
    } catch (error) {
      return { message, projection, error };
    }
  };

  const parking = deps.deadLetter !== undefined ? deps.parking : undefined;
  const handleBatch = async (batch: Batch, ctx: BatchContext, replay?: Replay): Promise<void> => {
    const first = deps.byTopic.get(batch.topic);
    if (first !== undefined && deps.pause !== undefined) {
      while (deps.pause.isPaused('projection', first.name)) await sleep(250, ctx.signal);
    }
    // Back-pressure: a partition with more than maxParkedKeys parked keys waits for their retries.
    if (parking !== undefined && replay === undefined) {
      while ((await parking.count(batch.topic, batch.partition)) > (deps.maxParkedKeys ?? 1000)) await sleep(250, ctx.signal);
    }
    const parkedKeys = parking === undefined ? new Set<string>() : await parking.load(batch.topic, batch.messages.filter((m) => m.key !== null).map((m) => m.key!));
    if (replay !== undefined) parkedKeys.delete(replay.entry.key);
    const items: Item[] = [];
    const stage = deps.stageEvents?.();
    for (const m of batch.messages) items.push(await parse(m));

    // One write buffer per collection name (handles are cheap and may differ between calls) and one set of
    // apply dependencies per projection for the whole batch.
    const buffers = new Map<string, WriteBuffer>();
    const buffer = (collection: Collection): WriteBuffer => {
      let b = buffers.get(collection.name);
      if (b === undefined) buffers.set(collection.name, (b = createWriteBuffer(collection, { insertMissing: true })));
      return b;
    };
    const perProjection = new Map<string, { apply: ApplyDeps; buffer: WriteBuffer | undefined }>();
    const applyOf = (p: CompiledProjection): { apply: ApplyDeps; buffer: WriteBuffer | undefined } => {
      let entry = perProjection.get(p.name);
      if (entry === undefined) {
        let captured: WriteBuffer | undefined;
        const apply = deps.applyDeps(p, (c) => (captured = buffer(c)));
        perProjection.set(p.name, (entry = { apply, buffer: captured }));
      }
      return entry;
    };
    const keysOf = new Map<CompiledProjection, Record<string, unknown>[]>();
    for (const item of items) {
      if (item.parsed?.kind !== 'change') continue;
      const list = keysOf.get(item.projection) ?? [];
      list.push(...targetKeys(item.projection, item.parsed, logger));
      keysOf.set(item.projection, list);
    }
    for (const [p, keys] of keysOf) await applyOf(p).buffer?.prefetch(p.primaryKey, keys);

    // deadLetter.mode holdKey: keys dead-lettered earlier stay held until redriven.
    const held = new Map<string, Set<string>>();
    if (deps.holds !== undefined && deps.deadLetter !== undefined) {
      for (const p of new Set(items.map((i) => i.projection))) {
        if (p.config.deadLetter?.mode !== 'holdKey') continue;
        held.set(p.name, await deps.holds.load(p.name, items.filter((i) => i.projection === p && i.message.key !== null).map((i) => i.message.key!)));
      }
    }
    const applied: { change: ProjectionChange; timestamp: number }[] = [];
    const failures: unknown[] = [];
    /** Handles a failed message: dead-letters it (true) or leaves it for the bus to retry (false). */
    const fail = async (item: Item, operation: string, error: unknown): Promise<boolean> => {
      const poison = !isMiaRunError(error) ? item.error !== undefined : !error.retriable;
      const key = item.message.key;
      let exhausted = !poison && batch.messages.length === 1 && ctx.attempt >= attempts && !isOutage(error);
      if (parking !== undefined && !poison && !isOutage(error) && key !== null) {
        // Per-key parking: the key waits (off the partition's path) and is retried after the delay.
        const tries = replay !== undefined && item.message === replay.entry.messages[0] ? replay.entry.attempts + 1 : 1;
        exhausted = tries >= attempts;
        if (!exhausted) {
          const lastError = error instanceof Error ? error.message : String(error);
          if (replay !== undefined) replay.again = { index: replay.entry.messages.indexOf(item.message), attempts: tries, lastError };
          else await parking.park(item.message, tries, lastError);
          parkedKeys.add(key);
          count(item.projection.name, operation, 'parked');
          logger.warn({ projection: item.projection.name, key, attempt: tries, err: error }, 'ingestion failed; key parked for a retry');
          return true;
        }
      }
      if (deps.deadLetter !== undefined && (poison || exhausted)) {
        await deps.deadLetter(item.projection, item.message, error, poison ? ctx.attempt : attempts);
        count(item.projection.name, operation, 'dead_letter');
        const holding = held.get(item.projection.name);
        if (holding !== undefined && item.message.key !== null && !holding.has(item.message.key)) {
          holding.add(item.message.key);
          await deps.holds?.hold(item.projection.name, item.message.key);
        }
        return true;
      }
      if (poison) count(item.projection.name, operation, 'dead_letter');
      failures.push(error);
      return false;
    };
    const handleOne = async (item: Item): Promise<boolean> => {
      const { message, projection, parsed } = item;
      if (message.key !== null && parkedKeys.has(message.key)) {
        // Behind a parked message of its key: waits in the parking (a retry keeps its own remaining messages).
        if (replay === undefined) await parking?.append(message);
        count(projection.name, parsed?.kind === 'change' ? parsed.operation : 'unknown', 'parked');
        return true;
      }
      if (message.key !== null && held.get(projection.name)?.has(message.key) === true) {
        const error = new MiaRunError('MR_FD_KEY_HELD', `${projection.name}: key ${message.key} is held after an earlier dead letter (deadLetter.mode: holdKey); redrive it to release`, { retriable: false });
        return fail(item, parsed?.kind === 'change' ? parsed.operation : 'unknown', error);
      }
      if (parsed === undefined) return fail(item, 'unknown', item.error);
      if (parsed.kind === 'skip') {
        if (parsed.reason === 'truncate') {
          logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset, code: 'MR_FD_TRUNCATE_SKIPPED' }, 'truncate skipped (never applied to the projection)');
          metrics.count('truncates_skipped', 'Truncate messages skipped (MR_FD_TRUNCATE_SKIPPED)', { projection: projection.name });
        }
        count(projection.name, parsed.reason, 'skipped');
        return true;
      }
      const position = positionOf(parsed, message, deps.position, () => metrics.count('position_fallback', 'Messages ordered by Kafka timestamp because the configured position was missing', { projection: projection.name }));
      try {
        const outcome = await applyChange(projection, parsed, position, message, applyOf(projection).apply);
        count(projection.name, parsed.operation, outcome.result);
        if (outcome.result === 'applied' && deps.bulk?.has(projection.name) !== true) for (const change of outcome.changes) applied.push({ change, timestamp: message.timestamp });
        if (outcome.result === 'applied') stage?.applied(outcome.changes, message);
        return true;
      } catch (error) {
        return fail(item, parsed.operation, error);
      }
    };

    const byKey = new Map<string, Item[]>();
    for (const item of items) {
      const k = item.message.key ?? `\u0000${item.message.offset}`;
      const list = byKey.get(k);
      if (list === undefined) byKey.set(k, [item]);
      else list.push(item);
    }
    const settled = await Promise.allSettled(
      [...byKey.values()].map(async (list) => {
        // A message left for a retry holds the later messages of its key (per-key order).
        for (const item of list) if (!(await handleOne(item))) return;
      }),
    );
    for (const s of settled) if (s.status === 'rejected') failures.push(s.reason);

    const affected = new Map<CompiledView, Map<string, Record<string, unknown>>>();
    const sourceTime = new Map<string, number>();
    const strategise = async (change: ProjectionChange, timestamp: number, intents?: Set<string>): Promise<void> => {
      for (const view of deps.viewsOf(change.projection)) {
        const ids = await affectedIdentifiers(view, change, deps.svDeps(view));
        const into = affected.get(view) ?? new Map<string, Record<string, unknown>>();
        for (const [k, id] of ids) {
          into.set(k, id);
          const tk = `${view.name}\u0000${k}`;
          sourceTime.set(tk, Math.min(sourceTime.get(tk) ?? timestamp, timestamp));
          intents?.add(tk);
        }
        affected.set(view, into);
      }
    };
    // Pre-images walk the store as it was before the batch (its writes are still buffered); they become
    // journal intents unless the post-image reaches the same identifiers anyway.
    const intentKeys = new Set<string>();
    for (const { change, timestamp } of applied) {
      if (change.before === null) continue;
      const needIntent = deps.viewsOf(change.projection).some((v) => !sameRoutes(v, change));
      await strategise({ ...change, after: null }, timestamp, needIntent ? intentKeys : undefined);
    }
    const intents = [...affected].flatMap(([view, ids]) => [...ids].filter(([k]) => intentKeys.has(`${view.name}\u0000${k}`)).map(([k, identifier]) => ({ id: `${view.name}\u0000${k}`, view: view.name, identifier })));
    if (deps.journal !== undefined) await markReady(deps.journal, intents, now());
    for (const b of buffers.values()) await b.flush();
    await stage?.publish();
    // ...post-images walk it after the writes.
    for (const { change, timestamp } of applied) if (change.after !== null) await strategise({ ...change, before: null }, timestamp);
    if (deps.journal !== undefined) {
      // Entries left by a failed or crashed run (intents, recorded events, expired claims).
      const overdue = await deps.journal.find({ at: { $lte: now() - (deps.intentTimeoutMs ?? 60_000) } }, { limit: 1000 }).toArray();
      for (const entry of overdue) {
        const view = viewByName.get(String(entry.view));
        if (view === undefined || viewPaused(view.name)) continue;
        const identifier = entry.identifier as Record<string, unknown>;
        const into = affected.get(view) ?? new Map<string, Record<string, unknown>>();
        into.set(identifierKey(view, identifier), identifier);
        affected.set(view, into);
      }
    }
    // Paused views keep their identifiers ready in the journal (recomputed on resume); others are recomputed now.
    const parked = [...affected].filter(([view]) => viewPaused(view.name));
    if (deps.journal !== undefined && parked.length > 0) {
      await markReady(deps.journal, parked.flatMap(([view, ids]) => [...ids].map(([k, identifier]) => ({ id: `${view.name}\u0000${k}`, view: view.name, identifier, extra: { paused: true } }))), now());
    }
    // Views of the messages that did apply are recomputed even when another key failed: the replay of a
    // redelivered message sees its own post-image as pre-image and could no longer reach an old parent.
    let pending: Work[] = [...affected].filter(([view]) => !viewPaused(view.name)).flatMap(([view, ids]) => [...ids].map(([k, id]) => ({ view, id, jid: `${view.name}\u0000${k}`, source: sourceTime.get(`${view.name}\u0000${k}`) })));
    // One computation per identifier at a time across processes: what another run holds is marked ready
    // (its run will not complete the entry) and claimed again once that run is done or its claim expired.
    // One computation per identifier at a time in this process: the identifier locks, held from the stored
    // read to the flush, order this process's batches, so only other processes' claims are ever waited for.
    const unlock = await deps.svLocks?.acquire(pending.map((w) => w.jid));
    try {
      // Polls back off from claimPollMs to 500 ms (a crashed holder's claim lasts until claimUntil).
      for (let tries = 0; pending.length > 0; tries++) {
        pending = await round(pending);
        if (pending.length === 0) break;
        if (tries === 0 && deps.journal !== undefined) await markReady(deps.journal, pending.map((w) => ({ id: w.jid, view: w.view.name, identifier: w.id })), now());
        await sleep(Math.min(500, (deps.claimPollMs ?? 20) * 2 ** Math.min(tries, 5)), ctx.signal);
      }
    } finally {
      unlock?.();
    }
    if (failures.length > 0) throw failures[0];
  };

  const handler: BatchHandler = (batch, ctx) => handleBatch(batch, ctx);
  const runParked = async (): Promise<number> => {
    if (parking === undefined) return 0;
    const due = await parking.takeDue(100);
    for (const entry of due) {
      const replay: Replay = { entry };
      await handleBatch({ topic: entry.topic, partition: entry.partition, messages: entry.messages }, { signal: new AbortController().signal, attempt: entry.attempts + 1 }, replay);
      await parking.settle(entry, replay.again?.index ?? entry.messages.length, replay.again);
    }
    return due.length;
  };
  return Object.assign(handler, { runParked });
}
