/**
 * The stored saga (flow-manager.md §5): Mia's fields first, so readers of Mia's saga collection keep working,
 * then mia-run's own fields, which do not clash: an optimistic version, the definition version, the xstate
 * persisted snapshot, the ids of applied events, the armed timer and the pending commands (the saga's
 * outbox, written in the same document update as the state change). Every write re-encodes the whole
 * document, so it carries nothing twice: the ids of applied events are those in its history, and the xstate
 * snapshot keeps only what `resolveState` needs.
 */

export interface StateHistoryEntry {
  readonly state: string;
  readonly timestamp: string;
  readonly businessStateId: number | null;
  readonly businessStateDescription: string | null;
}

export interface EventHistoryEntry {
  readonly event: string;
  readonly timestamp: string;
  readonly businessEventId: number | null;
  readonly businessEventDescription: string | null;
  readonly messageId?: string;
}

export interface CommandHistoryEntry {
  readonly id: string;
  readonly label: string;
  readonly channel: string;
  readonly state: string;
  readonly timestamp: string;
  readonly sideEffect: boolean;
}

/** An event that did not fit: recorded, not applied. */
export interface RejectedEventEntry {
  readonly event: string;
  readonly timestamp: string;
  readonly state: string;
  readonly code: string;
  readonly reason: string;
  readonly messageId?: string;
}

export interface SagaHistory {
  readonly states: readonly StateHistoryEntry[];
  readonly events: readonly EventHistoryEntry[];
  readonly commands: readonly CommandHistoryEntry[];
  readonly rejectedEvents: readonly RejectedEventEntry[];
}

/** A command waiting for delivery on its channel. */
export interface PendingCommand {
  readonly id: string;
  readonly label: string;
  readonly channel: string;
  readonly payload: unknown;
  readonly sideEffect: boolean;
  /** Delivery attempts that failed so far. */
  readonly attempts: number;
  /** Epoch ms after which any process may (re)try it; the process that wrote it tries at once. */
  readonly dueAt: number;
  readonly lastError?: string;
}

export interface ArmedTimer {
  readonly state: string;
  readonly event: string;
  readonly dueAt: number;
  /** Index of the state visit in `history.states` that armed it: a later visit arms another timer. */
  readonly visit: number;
}

export interface SagaDocument {
  readonly _id: string;
  readonly sagaId: string;
  readonly associatedEntityId: string;
  readonly currentState: string;
  readonly latestEvent: string;
  readonly isFinal: boolean;
  readonly businessStateId: number | null;
  readonly businessStateDescription: string | null;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly history: SagaHistory;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Optimistic concurrency: every write matches the version it read and increments it. */
  readonly sagaVersion: number;
  readonly definitionVersion: string;
  /** The xstate persisted snapshot reduced to what restoring needs (`minimalSnapshot`). */
  readonly machineSnapshot: unknown;
  /** Written by earlier versions (ids of applied messages); still honoured when present. */
  readonly appliedEventIds?: readonly string[];
  readonly timer: ArmedTimer | null;
  /** `timer.dueAt`, top-level so it can be indexed. */
  readonly timerDueAt: number | null;
  readonly pendingCommands: readonly PendingCommand[];
  /** Smallest `dueAt` of `pendingCommands` (indexed), null when none. */
  readonly commandsDueAt: number | null;
  /** Unique id of the write that stored this version (set by the repository; tells a landed write from a conflict). */
  readonly writeId?: string;
}

/**
 * True when the message `messageId` was applied to (or rejected by) this saga before: its id is in
 * `history.events` or `history.rejectedEvents` (or in the `appliedEventIds` of documents written by earlier
 * versions). Recent entries are looked at first: a redelivery is usually of the last message.
 */
export function wasApplied(doc: SagaDocument, messageId: string): boolean {
  const { events, rejectedEvents } = doc.history;
  for (let i = events.length - 1; i >= 0; i--) if (events[i]?.messageId === messageId) return true;
  for (let i = rejectedEvents.length - 1; i >= 0; i--) if (rejectedEvents[i]?.messageId === messageId) return true;
  return doc.appliedEventIds?.includes(messageId) === true;
}

/**
 * The persisted snapshot of a flat saga machine reduced to what `machine.resolveState` needs to restore it:
 * its status and state value (context, children, history values and output are always empty).
 */
export function minimalSnapshot(persisted: unknown): { status: string; value: unknown } {
  const { status, value } = persisted as { status: string; value: unknown };
  return { status, value };
}

/** The fields a client reads (`GET /saga/:id`): the document without mia-run's machinery. */
export function publicView(doc: SagaDocument, withHistory = true): Record<string, unknown> {
  const view: Record<string, unknown> = {
    sagaId: doc.sagaId,
    associatedEntityId: doc.associatedEntityId,
    currentState: doc.currentState,
    latestEvent: doc.latestEvent,
    isFinal: doc.isFinal,
    businessStateId: doc.businessStateId,
    businessStateDescription: doc.businessStateDescription,
    metadata: doc.metadata,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    definitionVersion: doc.definitionVersion,
    pendingCommands: doc.pendingCommands.map((c) => ({ id: c.id, label: c.label, channel: c.channel, attempts: c.attempts, ...(c.lastError ? { lastError: c.lastError } : {}) })),
    timer: doc.timer === null ? null : { event: doc.timer.event, dueAt: new Date(doc.timer.dueAt).toISOString() },
  };
  if (withHistory) view.history = doc.history;
  return view;
}

/** The smallest due time of a list of pending commands. */
export function commandsDueAt(commands: readonly PendingCommand[]): number | null {
  let min: number | null = null;
  for (const c of commands) if (min === null || c.dueAt < min) min = c.dueAt;
  return min;
}
