/**
 * One saga step as a pure function: the stored document and an event in, the next document out (state,
 * history, metadata, persisted snapshot, timer, pending commands), or a rejection with its reason. The
 * machine runs through xstate's pure `transition()`; its `sendCommand` and `armTimeout` actions are
 * interpreted here, so the state change and the commands it emits land in ONE document write.
 */
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { ArmTimeoutParams, CompiledSaga, SagaMachineEvent, SendCommandParams } from './compile.js';
import { commandsDueAt, minimalSnapshot, wasApplied, type CommandHistoryEntry, type PendingCommand, type SagaDocument } from './document.js';
import { mergeMetadata } from './merge.js';

/** Builds a command's payload: its hook when declared, else the saga metadata (flow-manager.md §3). */
export type PayloadBuilder = (command: SendCommandParams, saga: SagaDocument) => unknown;

export interface StepOptions {
  readonly now: number;
  readonly deepMerge: boolean;
  readonly payloadFor: PayloadBuilder;
  /** How long the writing process owns a new command before any process may deliver it. */
  readonly leaseMs: number;
}

export type StepResult =
  | { readonly kind: 'applied'; readonly doc: SagaDocument; readonly commands: readonly PendingCommand[] }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'rejected'; readonly doc: SagaDocument; readonly code: 'MR_SAGA_UNEXPECTED_EVENT' | 'MR_SAGA_INVALID_EVENT'; readonly reason: string };

interface ActionLike {
  readonly type: string;
  readonly params?: unknown;
}

/** Restored machine snapshots by state value: snapshots are immutable and a saga machine's context is empty. */
const snapshots = new WeakMap<CompiledSaga['machine'], Map<string, AnyMachineSnapshot>>();
function resolved(saga: CompiledSaga, value: string): AnyMachineSnapshot {
  let byValue = snapshots.get(saga.machine);
  if (byValue === undefined) snapshots.set(saga.machine, (byValue = new Map()));
  let snapshot = byValue.get(value);
  if (snapshot === undefined) byValue.set(value, (snapshot = saga.machine.resolveState({ value, context: {} })));
  return snapshot;
}

function businessState(saga: CompiledSaga, stateId: string): { id: number | null; description: string | null } {
  const id = saga.states.get(stateId)?.businessStateId;
  return id === undefined ? { id: null, description: null } : { id, description: saga.businessStates.get(id) ?? null };
}

/** Applies the entry actions of the state just entered to a document whose state fields are already set. */
function enter(saga: CompiledSaga, base: SagaDocument, actions: readonly ActionLike[], snapshot: AnyMachineSnapshot, opts: StepOptions): { doc: SagaDocument; commands: PendingCommand[] } {
  const iso = new Date(opts.now).toISOString();
  const commands: PendingCommand[] = [];
  const history: CommandHistoryEntry[] = [];
  let timer: SagaDocument['timer'] = null;
  for (const action of actions) {
    if (action.type === 'sendCommand') {
      const params = action.params as SendCommandParams;
      const id = `${base.sagaId}-${base.history.commands.length + commands.length}`;
      commands.push({ id, label: params.label, channel: params.channel, payload: opts.payloadFor(params, base), sideEffect: params.sideEffect, attempts: 0, dueAt: opts.now + opts.leaseMs });
      history.push({ id, label: params.label, channel: params.channel, state: base.currentState, timestamp: iso, sideEffect: params.sideEffect });
    } else if (action.type === 'armTimeout') {
      const params = action.params as ArmTimeoutParams;
      timer = { state: base.currentState, event: params.event, dueAt: opts.now + params.ms, visit: base.history.states.length - 1 };
    }
  }
  const pendingCommands = [...base.pendingCommands, ...commands];
  const doc: SagaDocument = {
    ...base,
    machineSnapshot: minimalSnapshot(saga.machine.getPersistedSnapshot(snapshot)),
    history: { ...base.history, commands: [...base.history.commands, ...history] },
    timer,
    timerDueAt: timer?.dueAt ?? null,
    pendingCommands,
    commandsDueAt: commandsDueAt(pendingCommands),
  };
  return { doc, commands };
}

/** The document of a new saga in `initialState`, with `creationEvent` in its history and the initial command pending. */
export function createSagaDocument(
  saga: CompiledSaga,
  input: { sagaId: string; associatedEntityId: string; metadata: Record<string, unknown> },
  opts: StepOptions,
): { doc: SagaDocument; commands: PendingCommand[] } {
  const [snapshot, actions] = initialTransition(saga.machine);
  const def = saga.config.machineDefinition;
  const state = String(snapshot.value);
  const business = businessState(saga, state);
  const iso = new Date(opts.now).toISOString();
  const base: SagaDocument = {
    _id: input.sagaId,
    sagaId: input.sagaId,
    associatedEntityId: input.associatedEntityId,
    currentState: state,
    latestEvent: def.creationEvent,
    isFinal: saga.states.get(state)?.isFinal === true,
    businessStateId: business.id,
    businessStateDescription: business.description,
    metadata: input.metadata,
    history: {
      states: [{ state, timestamp: iso, businessStateId: business.id, businessStateDescription: business.description }],
      events: [{ event: def.creationEvent, timestamp: iso, businessEventId: null, businessEventDescription: null }],
      commands: [],
      rejectedEvents: [],
    },
    createdAt: new Date(opts.now),
    updatedAt: new Date(opts.now),
    sagaVersion: 1,
    definitionVersion: saga.definitionHash,
    machineSnapshot: null,
    timer: null,
    timerDueAt: null,
    pendingCommands: [],
    commandsDueAt: null,
  };
  return enter(saga, base, actions as readonly ActionLike[], snapshot, opts);
}

/** Applies one event to a stored saga (exactly once per `messageId`). */
export function stepSaga(saga: CompiledSaga, doc: SagaDocument, event: SagaMachineEvent, messageId: string | undefined, opts: StepOptions): StepResult {
  if (messageId !== undefined && wasApplied(doc, messageId)) return { kind: 'duplicate' };
  const iso = new Date(opts.now).toISOString();
  const check: ReturnType<CompiledSaga['check']> = saga.states.has(doc.currentState)
    ? saga.check(doc.currentState, event)
    : {
        ok: false,
        code: 'MR_SAGA_UNEXPECTED_EVENT',
        reason: `state "${doc.currentState}" is not in the current definition of saga "${saga.name}" (this saga started on definition ${doc.definitionVersion}, the current one is ${saga.definitionHash})`,
      };
  if (!check.ok) {
    const rejected = { event: event.type, timestamp: iso, state: doc.currentState, code: check.code, reason: check.reason, ...(messageId === undefined ? {} : { messageId }) };
    const next: SagaDocument = {
      ...doc,
      updatedAt: new Date(opts.now),
      sagaVersion: doc.sagaVersion + 1,
      history: { ...doc.history, rejectedEvents: [...doc.history.rejectedEvents, rejected] },
    };
    return { kind: 'rejected', doc: next, code: check.code, reason: check.reason };
  }
  const persisted = doc.machineSnapshot as { value?: unknown } | null;
  const current = resolved(saga, (persisted?.value ?? doc.currentState) as string);
  const [snapshot, actions] = transition(saga.machine, current, event);
  const state = String(snapshot.value);
  const business = businessState(saga, state);
  const eventId = check.transition.businessEventId;
  const base: SagaDocument = {
    ...doc,
    currentState: state,
    latestEvent: event.type,
    isFinal: saga.states.get(state)?.isFinal === true,
    businessStateId: business.id,
    businessStateDescription: business.description,
    metadata: mergeMetadata(doc.metadata, event.payload, opts.deepMerge),
    updatedAt: new Date(opts.now),
    sagaVersion: doc.sagaVersion + 1,
    history: {
      ...doc.history,
      states: [...doc.history.states, { state, timestamp: iso, businessStateId: business.id, businessStateDescription: business.description }],
      events: [
        ...doc.history.events,
        {
          event: event.type,
          timestamp: iso,
          businessEventId: eventId ?? null,
          businessEventDescription: eventId === undefined ? null : (saga.businessEvents.get(eventId) ?? null),
          ...(messageId === undefined ? {} : { messageId }),
        },
      ],
    },
  };
  const entered = enter(saga, base, actions as readonly ActionLike[], snapshot, opts);
  return { kind: 'applied', doc: entered.doc, commands: entered.commands };
}
