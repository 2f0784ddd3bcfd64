/**
 * The running side of one saga definition: creates sagas, applies events exactly once with per-saga
 * serialization, and delivers the commands and timers each step leaves in the document. A step's command
 * is written with the state change (the saga's outbox); this process delivers it at once and removes it,
 * and any process delivers it after `leaseMs` if this one died first. Failed deliveries are retried with
 * back-off (durable: the next try is a stored due time); the last failure sends `<label>Error` into the machine.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { createMetricEmitter } from '../ports/telemetry.js';
import type { CommandSender } from './channels.js';
import type { Collection } from '../ports/document-store.js';
import type { CompiledSaga, SendCommandParams } from './compile.js';
import { createDefinitionVersions } from './definitions.js';
import { commandsDueAt, publicView, type ArmedTimer, type PendingCommand, type SagaDocument } from './document.js';
import { createDueScheduler, type DueScheduler } from './due-scheduler.js';
import type { SagaRepository } from './repository.js';
import { createSagaDocument, stepSaga, type StepOptions, type StepResult } from './step.js';

/** A command payload hook (Mia's `({ saga, messageLabel }) => ({ payload })`), loaded at start-up. */
export type PayloadHook = (input: { saga: Record<string, unknown>; messageLabel: string }) => { payload?: unknown } | undefined;

export interface SagaEventInput {
  readonly sagaId: string;
  readonly label: string;
  readonly payload?: unknown;
  /** De-duplication id; absent = not de-duplicated. */
  readonly messageId?: string;
}

export type SendResult =
  | { readonly status: 'applied'; readonly doc: SagaDocument }
  | { readonly status: 'duplicate' }
  | { readonly status: 'rejected'; readonly code: 'MR_SAGA_UNEXPECTED_EVENT' | 'MR_SAGA_INVALID_EVENT'; readonly reason: string };

export interface CommandRetry {
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

export interface SagaEngineOptions {
  readonly saga: CompiledSaga;
  readonly repository: SagaRepository;
  readonly senders: ReadonlyMap<string, CommandSender>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Payload hooks by command label. */
  readonly hooks?: ReadonlyMap<string, PayloadHook>;
  /** Default 30 s. */
  readonly leaseMs?: number;
  readonly retry?: CommandRetry;
  /**
   * How long a delivered command may stay in its document before a write of its own removes it; default a
   * quarter of `leaseMs`, at most 5 s (well before another process would take the command for undelivered).
   */
  readonly ackDelayMs?: number;
  /** Where definition versions are recorded (`definitions.ts`); without it every saga runs on the current definition. */
  readonly definitions?: Collection;
}

export interface SagaEngine {
  readonly saga: CompiledSaga;
  readonly repository: SagaRepository;
  create(input: { associatedEntityId: string; metadata: Record<string, unknown> }): Promise<SagaDocument>;
  send(input: SagaEventInput): Promise<SendResult>;
  /** Ensures indexes, then runs overdue timers and commands (recovery after a restart). */
  start(): Promise<void>;
  /** Stops the schedulers and waits for deliveries in flight. */
  stop(): Promise<void>;
}

const metrics = createMetricEmitter('saga');
const PAGE = 100;

export function createSagaEngine(options: SagaEngineOptions): SagaEngine {
  const { saga, repository, senders, clock, logger } = options;
  const retry = options.retry ?? { attempts: 5, baseMs: 1000, maxMs: 60_000 };
  const collection = repository.collection;
  const inFlight = new Set<string>();
  const deliveries = new Set<Promise<void>>();
  const deep = saga.config.settings?.deepMergeMetadata?.enabled === true;
  const versions = options.definitions === undefined ? undefined : createDefinitionVersions(saga, options.definitions, logger);
  /** The definition a saga runs on: the one it started with (usually the current one, without waiting). */
  const definitionOf = (doc: SagaDocument): CompiledSaga | Promise<CompiledSaga> =>
    doc.definitionVersion === saga.definitionHash || versions === undefined ? saga : versions.forVersion(doc.definitionVersion);

  const payloadFor = (command: SendCommandParams, doc: SagaDocument): unknown => {
    const hook = options.hooks?.get(command.label);
    if (hook === undefined) return doc.metadata;
    return hook({ saga: publicView(doc), messageLabel: command.label })?.payload ?? {};
  };
  const stepOptions = (): StepOptions => ({ now: clock.now(), deepMerge: deep, payloadFor, leaseMs: options.leaseMs ?? 30_000 });

  const afterWrite = (doc: SagaDocument, commands: readonly PendingCommand[]): void => {
    if (doc.timerDueAt !== null) timers.poke(doc.timerDueAt);
    if (commands.length > 0) track(deliver(doc.sagaId, commands).catch((err: unknown) => logger.error({ err, sagaId: doc.sagaId }, 'saga command bookkeeping failed; the commands stay pending')));
  };
  const track = (p: Promise<void>): void => {
    deliveries.add(p);
    void p.finally(() => deliveries.delete(p));
  };

  /**
   * Delivered commands not yet removed from their saga. Removing them costs a write, so it is folded into
   * the saga's next write (usually the event the command provokes) or flushed after `ackDelayMs`. A crash
   * before that only means a redelivery (at-least-once; the command id lets executors drop it).
   */
  const delivered = new Map<string, Set<string>>();
  /** When each saga in `delivered` got its first unacknowledged delivery (insertion order = oldest first). */
  const deliveredAt = new Map<string, number>();
  let ackTimer: TimerHandle | undefined;
  const ackDelayMs = options.ackDelayMs ?? Math.min(5000, (options.leaseMs ?? 30_000) / 4);

  /**
   * The document without the commands already delivered; `removed` lists every delivered id known for the
   * saga (those absent from the document were removed by an earlier write) and `changed` says whether any
   * was still there.
   */
  const withoutDelivered = (doc: SagaDocument): { doc: SagaDocument; removed: string[]; changed: boolean } => {
    const done = delivered.get(doc.sagaId);
    if (done === undefined) return { doc, removed: [], changed: false };
    const removed = [...done];
    const pendingCommands = doc.pendingCommands.filter((c) => !done.has(c.id));
    if (pendingCommands.length === doc.pendingCommands.length) return { doc, removed, changed: false };
    return { doc: { ...doc, pendingCommands, commandsDueAt: commandsDueAt(pendingCommands) }, removed, changed: true };
  };
  const forget = (sagaId: string, removed: readonly string[]): void => {
    const done = delivered.get(sagaId);
    if (done === undefined) return;
    for (const id of removed) done.delete(id);
    if (done.size === 0) {
      delivered.delete(sagaId);
      deliveredAt.delete(sagaId);
    }
  };

  /**
   * Writes the acknowledgements that waited `ackDelayMs` without a write of their saga to carry them (all
   * of them when `all`), together (one group commit); younger ones keep their chance to be folded.
   */
  async function flushAcks(all = false): Promise<void> {
    ackTimer = undefined;
    const due: string[] = [];
    const cutoff = clock.now() - ackDelayMs;
    for (const [sagaId, at] of deliveredAt) {
      if (!all && at > cutoff) break;
      due.push(sagaId);
    }
    await Promise.all(
      due.map(async (sagaId) => {
        try {
          const removed = await repository.update(sagaId, (doc) => {
            const stripped = withoutDelivered(doc);
            if (!stripped.changed) return { result: stripped.removed };
            return { doc: { ...stripped.doc, sagaVersion: doc.sagaVersion + 1 }, result: stripped.removed };
          });
          forget(sagaId, removed);
        } catch (err) {
          logger.warn({ err, sagaId }, 'could not record delivered saga commands; they may be sent again');
          delivered.delete(sagaId);
          deliveredAt.delete(sagaId);
        }
      }),
    );
    if (!all) scheduleAckFlush();
  }
  const scheduleAckFlush = (): void => {
    if (ackTimer !== undefined) return;
    const oldest = deliveredAt.values().next();
    if (oldest.done === true) return;
    ackTimer = clock.setTimeout(() => track(flushAcks()), Math.max(0, oldest.value + ackDelayMs - clock.now()));
  };

  /** Tries each command once; successes are acknowledged lazily, failures recorded at once (next try, or give up). */
  async function deliver(sagaId: string, commands: readonly PendingCommand[]): Promise<void> {
    const failures = new Map<string, string>();
    const taken: string[] = [];
    // All of a saga's commands are handed to their channels at once: in order, and on a bus channel in one publish.
    const sends: Promise<void>[] = [];
    for (const command of commands) {
      if (inFlight.has(command.id) || delivered.get(sagaId)?.has(command.id)) continue;
      inFlight.add(command.id);
      taken.push(command.id);
      const sender = senders.get(command.channel);
      const sent = sender === undefined ? Promise.reject(new Error(`channel "${command.channel}" cannot send commands`)) : sender(sagaId, command);
      sends.push(
        sent.then(
          () => {
            const done = delivered.get(sagaId) ?? new Set<string>();
            delivered.set(sagaId, done.add(command.id));
            if (!deliveredAt.has(sagaId)) deliveredAt.set(sagaId, clock.now());
            metrics.count('commands_sent', 'Commands delivered', { saga: saga.name, channel: command.channel });
          },
          (err: unknown) => {
            failures.set(command.id, (err as Error).message);
            logger.warn({ err, sagaId, command: command.label }, 'saga command delivery failed');
          },
        ),
      );
    }
    await Promise.all(sends);
    if (failures.size === 0) {
      for (const id of taken) inFlight.delete(id);
      if (taken.length > 0) scheduleAckFlush();
      return;
    }
    const exhausted: PendingCommand[] = [];
    try {
      const doc = await repository.update(sagaId, (current) => {
        const now = clock.now();
        const stripped = withoutDelivered(current);
        const kept: PendingCommand[] = [];
        exhausted.length = 0;
        for (const c of stripped.doc.pendingCommands) {
          const failure = failures.get(c.id);
          if (failure === undefined) kept.push(c);
          else if (c.attempts + 1 >= retry.attempts) exhausted.push({ ...c, lastError: failure });
          else kept.push({ ...c, attempts: c.attempts + 1, dueAt: now + Math.min(retry.maxMs, retry.baseMs * 2 ** c.attempts), lastError: failure });
        }
        const next: SagaDocument = { ...stripped.doc, sagaVersion: current.sagaVersion + 1, pendingCommands: kept, commandsDueAt: commandsDueAt(kept) };
        return { doc: next, result: { next, removed: stripped.removed } };
      });
      forget(sagaId, doc.removed);
      if (doc.next.commandsDueAt !== null) commandScheduler.poke(doc.next.commandsDueAt);
    } finally {
      for (const id of taken) inFlight.delete(id);
    }
    for (const c of exhausted) {
      metrics.count('commands_failed', 'Commands given up after retries', { saga: saga.name, channel: c.channel });
      if (c.sideEffect) continue;
      await send({ sagaId, label: `${c.label}Error`, payload: { reason: c.lastError ?? 'delivery failed', commandId: c.id }, messageId: `command-error:${c.id}` });
    }
  }

  async function send(input: SagaEventInput): Promise<SendResult> {
    const event = { type: input.label, payload: input.payload ?? {} };
    let removed: string[] = [];
    const result = await repository.update<StepResult>(input.sagaId, async (doc) => {
      const definition = await definitionOf(doc);
      const stripped = withoutDelivered(doc);
      const step = stepSaga(definition, stripped.doc, event, input.messageId, stepOptions());
      removed = step.kind === 'duplicate' ? [] : stripped.removed;
      return step.kind === 'duplicate' ? { result: step } : { doc: step.doc, result: step };
    });
    forget(input.sagaId, removed);
    if (result.kind === 'duplicate') {
      metrics.count('events_duplicate', 'Redelivered events ignored', { saga: saga.name });
      return { status: 'duplicate' };
    }
    if (result.kind === 'rejected') {
      metrics.count('events_rejected', 'Events that did not fit the saga state', { saga: saga.name, code: result.code });
      return { status: 'rejected', code: result.code, reason: result.reason };
    }
    metrics.count('transitions', 'Events applied', { saga: saga.name, state: result.doc.currentState });
    afterWrite(result.doc, result.commands);
    return { status: 'applied', doc: result.doc };
  }

  async function fireTimer(sagaId: string, timer: ArmedTimer): Promise<void> {
    let removed: string[] = [];
    const fired = await repository.update(sagaId, async (doc) => {
      const same = doc.timer !== null && doc.timer.state === timer.state && doc.timer.visit === timer.visit;
      if (!same) return { result: undefined };
      const definition = await definitionOf(doc);
      const stripped = withoutDelivered(doc);
      removed = stripped.removed;
      const step = stepSaga(definition, stripped.doc, { type: timer.event, payload: {} }, `timeout:${timer.state}:${timer.visit}`, stepOptions());
      // A timer fires once: whatever the step says, it is disarmed unless the step armed a new one.
      if (step.kind !== 'applied') {
        const base = step.kind === 'rejected' ? step.doc : { ...stripped.doc, sagaVersion: doc.sagaVersion + 1 };
        return { doc: { ...base, timer: null, timerDueAt: null }, result: undefined };
      }
      return { doc: step.doc, result: step };
    });
    forget(sagaId, removed);
    if (fired !== undefined) {
      metrics.count('timeouts_fired', 'Timers fired', { saga: saga.name });
      afterWrite(fired.doc, fired.commands);
    }
  }

  // Both schedulers also look at the store every lease period: due work of a process that died is taken over.
  const idleRecheckMs = options.leaseMs ?? 30_000;
  const timers: DueScheduler = createDueScheduler({
    name: `${saga.name} timers`,
    clock,
    logger,
    idleRecheckMs,
    nextDue: async () => ((await collection.findOne({ timerDueAt: { $ne: null } }, { sort: { timerDueAt: 1 }, projection: { timerDueAt: 1 } }))?.timerDueAt as number | undefined) ?? null,
    runDue: async (now) => {
      const due = (await collection.find({ timerDueAt: { $lte: now } }, { sort: { timerDueAt: 1 }, limit: PAGE, projection: { sagaId: 1, timer: 1 } }).toArray()) as unknown as Pick<SagaDocument, 'sagaId' | 'timer'>[];
      // Different sagas: fired together, so their writes share a group commit.
      await Promise.all(due.map((doc) => (doc.timer ? fireTimer(doc.sagaId, doc.timer) : undefined)));
      return due.length === PAGE;
    },
  });

  const commandScheduler: DueScheduler = createDueScheduler({
    name: `${saga.name} commands`,
    clock,
    logger,
    idleRecheckMs,
    nextDue: async () => ((await collection.findOne({ commandsDueAt: { $ne: null } }, { sort: { commandsDueAt: 1 }, projection: { commandsDueAt: 1 } }))?.commandsDueAt as number | undefined) ?? null,
    runDue: async (now) => {
      const due = (await collection.find({ commandsDueAt: { $lte: now } }, { sort: { commandsDueAt: 1 }, limit: PAGE, projection: { sagaId: 1, pendingCommands: 1 } }).toArray()) as unknown as Pick<SagaDocument, 'sagaId' | 'pendingCommands'>[];
      await Promise.all(due.map((doc) => deliver(doc.sagaId, doc.pendingCommands.filter((c) => c.dueAt <= now))));
      return due.length === PAGE;
    },
  });

  return {
    saga,
    repository,
    send,
    async create(input) {
      const sagaId = `${saga.config.sagaIdPrefix ?? ''}${randomUUID().replaceAll('-', '')}`;
      const { doc, commands } = createSagaDocument(saga, { sagaId, ...input }, stepOptions());
      await repository.insert(doc);
      metrics.count('sagas_created', 'Sagas created', { saga: saga.name });
      afterWrite(doc, commands);
      return doc;
    },
    async start() {
      await repository.ensureIndexes();
      await versions?.record(clock.now());
      await timers.start();
      await commandScheduler.start();
    },
    async stop() {
      await timers.stop();
      await commandScheduler.stop();
      while (deliveries.size > 0) await Promise.allSettled([...deliveries]);
      if (ackTimer !== undefined) clock.clearTimeout(ackTimer);
      await flushAcks(true);
    },
  };
}
