/**
 * The `aggregates` section of the descriptor (fast-data.md §8): event-sourced aggregates with their event
 * schemas, schema versions and upcasters, the state fold, snapshots, publication and read models.
 * `schemas/project.schema.json` is the truth for spelling; these types mirror it.
 */
import type { CodeHook } from '../types.js';

/** A JSON Schema object as written in the descriptor. */
export type AggregateJsonSchema = Readonly<Record<string, unknown>>;

/**
 * One step of the declarative fold language. Paths are dotted (`totals.count`). `from` reads the event's
 * data (`amount`, `items.0.sku`) or the envelope (`$aggregateId`, `$version`, `$type`, `$occurredAt`);
 * without `from`, `value` is used (a literal). Descriptor text is never evaluated.
 */
export type FoldOperation =
  | { readonly set: string; readonly from?: string; readonly value?: unknown }
  | { readonly inc: string; readonly from?: string; readonly by?: number }
  | { readonly dec: string; readonly from?: string; readonly by?: number }
  | { readonly push: string; readonly from?: string; readonly value?: unknown }
  | { readonly unset: string }
  | { readonly merge: string; readonly from?: string }
  | { readonly delete: true };

/** Per event type, the operations applied in order. */
export type FoldHandlers = Readonly<Record<string, readonly FoldOperation[]>>;

/** Moves an event's data from schema version `from` to `from + 1`. */
export interface UpcasterDefinition {
  readonly from: number;
  /** Old field name → new field name (top level or dotted). */
  readonly rename?: Readonly<Record<string, string>>;
  /** Fields set when absent. */
  readonly defaults?: Readonly<Record<string, unknown>>;
  readonly remove?: readonly string[];
  /** `(data, { type, fromVersion }) => data`, run after the declarative steps. */
  readonly hook?: CodeHook;
}

export interface AggregateEventDefinition {
  /** JSON Schema of the event data at the current `version`; appended events are validated with it. */
  readonly schema: AggregateJsonSchema;
  /** Current schema version of this event type; default 1. */
  readonly version?: number;
  /** One per older version, so stored events of any version still fold. */
  readonly upcasters?: readonly UpcasterDefinition[];
}

export interface AggregateStateDefinition {
  /** State before the first event; default `{}`. */
  readonly initial?: Readonly<Record<string, unknown>>;
  /** Declarative fold per event type (event types without an entry leave the state unchanged). */
  readonly on?: FoldHandlers;
  /** `(state, event) => state`, used instead of `on`. */
  readonly reducer?: CodeHook;
}

export interface ReadModelDefinition {
  /** Unique across aggregates (the `aggregates rebuild` argument). */
  readonly name: string;
  /** Collection of the read model; default the name. */
  readonly collection?: string;
  /** Document before the first event of an aggregate; default `{}`. */
  readonly initial?: Readonly<Record<string, unknown>>;
  readonly on?: FoldHandlers;
  /** `(doc | null, event) => doc | null` (null deletes), used instead of `on`. */
  readonly reduce?: CodeHook;
}

/** A value in a guard: a literal, or a dotted path into the current state or the command input. */
export type GuardOperand = string | number | boolean | null | { readonly state: string } | { readonly input: string };

/**
 * A declarative precondition of a command: the left side (`state` or `input` path) compared with one operator
 * to an operand; when the comparison does not hold the command is rejected (422 `MR_ES_REJECTED`) with
 * `message` (`{state.x}` and `{input.x}` are replaced by those values).
 */
export type CommandGuard = ({ readonly state: string } | { readonly input: string }) & {
  readonly eq?: GuardOperand;
  readonly ne?: GuardOperand;
  readonly gt?: GuardOperand;
  readonly gte?: GuardOperand;
  readonly lt?: GuardOperand;
  readonly lte?: GuardOperand;
  readonly message?: string;
};

/** A named command, `POST {basePath}/{id}/{command}`: guards, then either `emits` or `handler` decides. */
export interface CommandDefinition {
  /** Event type appended with the command body as its data (validated by that event's schema). */
  readonly emits?: string;
  /** `(state, input, ctx) => event | event[]`, `ctx.reject(message)` for a 422; used instead of `emits`. */
  readonly handler?: CodeHook;
  /** JSON Schema of the body (default: the emitted event's schema; a handler without one takes any object). */
  readonly input?: AggregateJsonSchema;
  /** The aggregate must not exist yet (expected version 0, answers 201); otherwise it must exist (404). */
  readonly creates?: boolean;
  /** Checked in order against the current state and the input before deciding. */
  readonly guards?: readonly CommandGuard[];
}

export interface AggregateConfig {
  /** Default `default`. */
  readonly database?: string;
  readonly events: Readonly<Record<string, AggregateEventDefinition>>;
  readonly state?: AggregateStateDefinition;
  /** Stores a snapshot each time the version crosses a multiple of this; absent or 0: no snapshots. */
  readonly snapshotEvery?: number;
  /** Bump when the fold changes: older snapshots are then ignored. Default 1. */
  readonly snapshotVersion?: number;
  /** Topic (declared in `bus.topics`) the events are published to through the outbox. */
  readonly publish?: { readonly topic: string };
  readonly readModels?: readonly ReadModelDefinition[];
  /** Named commands by name (not `events`, which is the raw append route). */
  readonly commands?: Readonly<Record<string, CommandDefinition>>;
}
