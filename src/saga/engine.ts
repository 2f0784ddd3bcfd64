/**
 * The running side of one saga definition: creates sagas, applies events exactly once with per-saga
 * serialization, and delivers the commands and timers each step leaves in the document. A step's command
 * is written with the state change (the saga's outbox); this process delivers it at once and removes it,
 * and any process delivers it after `leaseMs` if this one died first. Failed deliveries are retried with
 * back-off (durable: the next try is a stored due time); the last failure sends `<label>Error` into the machine.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { createMetricEmitter } from '../ports/telemetry.js';
import type { CommandSender } from './channels.js';
import type { CompiledSaga, SendCommandParams } from './compile.js';
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

  /** Tries each command once, then records the outcome in one write. */
  async function deliver(sagaId: string, commands: readonly PendingCommand[]): Promise<void> {
    const outcomes = new Map<string, string | null>();
    for (const command of commands) {
      if (inFlight.has(command.id)) continue;
      inFlight.add(command.id);
      try {
        const sender = senders.get(command.channel);
        if (sender === undefined) throw new Error(`channel "${command.channel}" cannot send commands`);
        await sender(sagaId, command);
        outcomes.set(command.id, null);
        metrics.count('commands_sent', 'Commands delivered', { saga: saga.name, channel: command.channel });
      } catch (err) {
        outcomes.set(command.id, (err as Error).message);
        logger.warn({ err, sagaId, command: command.label }, 'saga command delivery failed');
      }
    }
    if (outcomes.size === 0) return;
    const exhausted: PendingCommand[] = [];
    try {
      const doc = await repository.update(sagaId, (current) => {
        const now = clock.now();
        const kept: PendingCommand[] = [];
        let changed = false;
        for (const c of current.pendingCommands) {
          const outcome = outcomes.get(c.id);
          if (outcome === undefined) kept.push(c);
          else if (outcome === null) changed = true;
          else if (c.attempts + 1 >= retry.attempts) {
            changed = true;
            exhausted.push(c);
          } else {
            changed = true;
            const delay = Math.min(retry.maxMs, retry.baseMs * 2 ** c.attempts);
            kept.push({ ...c, attempts: c.attempts + 1, dueAt: now + delay, lastError: outcome });
          }
        }
        if (!changed) return { result: current };
        const next: SagaDocument = { ...current, sagaVersion: current.sagaVersion + 1, pendingCommands: kept, commandsDueAt: commandsDueAt(kept) };
        return { doc: next, result: next };
      });
      if (doc.commandsDueAt !== null) commandScheduler.poke(doc.commandsDueAt);
    } finally {
      for (const id of outcomes.keys()) inFlight.delete(id);
    }
    for (const c of exhausted) {
      metrics.count('commands_failed', 'Commands given up after retries', { saga: saga.name, channel: c.channel });
      if (c.sideEffect) continue;
      await send({ sagaId, label: `${c.label}Error`, payload: { reason: c.lastError ?? 'delivery failed', commandId: c.id }, messageId: `command-error:${c.id}` });
    }
  }

  async function send(input: SagaEventInput): Promise<SendResult> {
    const event = { type: input.label, payload: input.payload ?? {} };
    const result = await repository.update<StepResult>(input.sagaId, (doc) => {
      const step = stepSaga(saga, doc, event, input.messageId, stepOptions());
      return step.kind === 'duplicate' ? { result: step } : { doc: step.doc, result: step };
    });
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
    const fired = await repository.update(sagaId, (doc) => {
      const same = doc.timer !== null && doc.timer.state === timer.state && doc.timer.visit === timer.visit;
      if (!same) return { result: undefined };
      const step = stepSaga(saga, doc, { type: timer.event, payload: {} }, `timeout:${timer.state}:${timer.visit}`, stepOptions());
      // A timer fires once: whatever the step says, it is disarmed unless the step armed a new one.
      if (step.kind !== 'applied') {
        const base = step.kind === 'rejected' ? step.doc : { ...doc, sagaVersion: doc.sagaVersion + 1 };
        return { doc: { ...base, timer: null, timerDueAt: null }, result: undefined };
      }
      return { doc: step.doc, result: step };
    });
    if (fired !== undefined) {
      metrics.count('timeouts_fired', 'Timers fired', { saga: saga.name });
      afterWrite(fired.doc, fired.commands);
    }
  }

  const timers: DueScheduler = createDueScheduler({
    name: `${saga.name} timers`,
    clock,
    logger,
    nextDue: async () => ((await collection.findOne({ timerDueAt: { $ne: null } }, { sort: { timerDueAt: 1 }, projection: { timerDueAt: 1 } }))?.timerDueAt as number | undefined) ?? null,
    runDue: async (now) => {
      const due = (await collection.find({ timerDueAt: { $lte: now } }, { sort: { timerDueAt: 1 }, limit: PAGE, projection: { sagaId: 1, timer: 1 } }).toArray()) as unknown as Pick<SagaDocument, 'sagaId' | 'timer'>[];
      for (const doc of due) if (doc.timer) await fireTimer(doc.sagaId, doc.timer);
      return due.length === PAGE;
    },
  });

  const commandScheduler: DueScheduler = createDueScheduler({
    name: `${saga.name} commands`,
    clock,
    logger,
    nextDue: async () => ((await collection.findOne({ commandsDueAt: { $ne: null } }, { sort: { commandsDueAt: 1 }, projection: { commandsDueAt: 1 } }))?.commandsDueAt as number | undefined) ?? null,
    runDue: async (now) => {
      const due = (await collection.find({ commandsDueAt: { $lte: now } }, { sort: { commandsDueAt: 1 }, limit: PAGE, projection: { sagaId: 1, pendingCommands: 1 } }).toArray()) as unknown as Pick<SagaDocument, 'sagaId' | 'pendingCommands'>[];
      for (const doc of due) await deliver(doc.sagaId, doc.pendingCommands.filter((c) => c.dueAt <= now));
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
      await timers.start();
      await commandScheduler.start();
    },
    async stop() {
      await timers.stop();
      await commandScheduler.stop();
      while (deliveries.size > 0) await Promise.allSettled([...deliveries]);
    },
  };
}
