/**
 * The `sagas` section of the descriptor (flow-manager.md §2-§3): Mia Flow Manager machine definitions,
 * accepted as is, plus mia-run's additions (timers, guards, retries, channels on the project bus or HTTP).
 * `schemas/project.schema.json` is the truth for spelling; these types mirror it. Durations may still be
 * written as strings (`15m`); the saga compiler reads them with `parseDuration`.
 */
import type { CodeHook } from '../types.js';

/** A JSON Schema object as written in the descriptor. */
export type SagaJsonSchema = Readonly<Record<string, unknown>>;

/** A command sent when a state is entered (`outputCommand`) or as a fire-and-forget side effect. */
export interface SagaCommandDefinition {
  readonly label: string;
  readonly channel: string;
  /** Builds the payload: `({ saga, messageLabel }) => ({ payload })`. Default payload: the saga's metadata. */
  readonly hook?: CodeHook;
}

/** One outgoing transition of a state. */
export interface SagaTransitionDefinition {
  readonly inputEvent: string;
  readonly targetState: string;
  readonly businessEventId?: number;
  /** Mia: a payload failing it is rejected (`MR_SAGA_INVALID_EVENT`). */
  readonly payloadValidationSchema?: SagaJsonSchema;
  /**
   * mia-run: a guard. The transition is taken only when the event payload matches this JSON Schema; several
   * transitions may share an input event when all but the last have a `when`.
   */
  readonly when?: SagaJsonSchema;
  /** mia-run: marks a compensation step (drawn dashed by `saga graph`). */
  readonly compensation?: boolean;
}

/** mia-run: a durable timer armed when the state is entered; `event` is sent if the saga is still there. */
export interface SagaTimeoutDefinition {
  readonly after: number | string;
  readonly event: string;
}

export interface SagaStateDefinition {
  readonly id: string;
  readonly description?: string;
  /** Default false. */
  readonly isFinal?: boolean;
  readonly businessStateId?: number;
  readonly outputCommand?: SagaCommandDefinition;
  readonly sideEffects?: readonly SagaCommandDefinition[];
  readonly outgoingTransitions?: readonly SagaTransitionDefinition[];
  readonly timeout?: SagaTimeoutDefinition;
  /** mia-run: marks a compensating state (drawn differently by `saga graph`). */
  readonly compensation?: boolean;
}

export interface SagaBusinessLabel {
  readonly id: number;
  readonly description?: string;
}

/** Mia's `machineDefinition`. */
export interface SagaMachineDefinition {
  readonly initialState: string;
  readonly creationEvent: string;
  readonly businessStates?: readonly SagaBusinessLabel[];
  readonly businessEvents?: readonly SagaBusinessLabel[];
  readonly states: readonly SagaStateDefinition[];
}

/** Commands and events on topics of the project's `bus`, in Mia's Kafka message shape. */
export interface SagaBusChannel {
  readonly kind: 'bus';
  /** Topic commands are published to (key = sagaId). */
  readonly commands?: string;
  /** Topic events are consumed from. */
  readonly events?: string;
  /** Consumer group; default `mia-run-saga-<saga>`. */
  readonly consumerGroup?: string;
}

/** Commands POSTed to a URL (Mia `rest` channel); events arrive on `POST /event`. */
export interface SagaHttpChannel {
  readonly kind: 'http';
  readonly url: string;
  /** Default POST. */
  readonly method?: 'POST' | 'PUT' | 'PATCH';
  readonly headers?: Readonly<Record<string, string>>;
  /** Names from `policies` (timeouts, retries, breaker). */
  readonly policies?: readonly string[];
}

export type SagaChannel = SagaBusChannel | SagaHttpChannel;

/** Retries of a command whose delivery failed, before `<label>Error` is sent into the machine. */
export interface SagaCommandRetry {
  /** Tries including the first; default 5. */
  readonly attempts?: number;
  /** First back-off; default 1s; doubled each try. */
  readonly base?: number | string;
  /** Largest back-off; default 1m. */
  readonly max?: number | string;
  /** How long the writing process owns a new command before any process may deliver it; default 30s. */
  readonly lease?: number | string;
}

export interface SagaSettings {
  /** mia-run default true: an event that does not fit answers 409; false answers 200 like Mia. */
  readonly throwOnUnexpectedEvents?: boolean;
  readonly deepMergeMetadata?: { readonly enabled: boolean };
}

/** `sagas.<name>`. */
export interface SagaConfig {
  /** A `databases` entry; default `default`. */
  readonly database?: string;
  /** Collection of saga documents; default `sagas-<name>`. */
  readonly collection?: string;
  /** Prefix of generated saga ids. */
  readonly sagaIdPrefix?: string;
  readonly machineDefinition: SagaMachineDefinition;
  readonly channels?: Readonly<Record<string, SagaChannel>>;
  readonly commandRetry?: SagaCommandRetry;
  readonly settings?: SagaSettings;
}
