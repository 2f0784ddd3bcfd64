/**
 * Turns a Mia `machineDefinition` (flow-manager.md §2) into an xstate v5 machine at start-up (STYLE §9: sagas
 * stay data). Actions and guards are bound by name through `setup()`: entering a state yields `sendCommand`
 * and `armTimeout` actions that the runtime interprets (nothing runs inside xstate), and guarded transitions
 * use the `payloadMatches` guard, a JSON Schema match on the event payload (never evaluated code).
 */
import { createHash } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import { setup, type AnyStateMachine } from 'xstate';
import type { SagaCommandDefinition, SagaConfig, SagaStateDefinition, SagaTransitionDefinition } from '../config/sections/sagas.js';
import { parseDuration } from '../config/units.js';
import { MiaRunError } from '../errors.js';

/** The event xstate sees: Mia's `messageLabel` as `type`, `messagePayload` as `payload`. */
export interface SagaMachineEvent {
  readonly type: string;
  readonly payload?: unknown;
}

/** Parameters of the `sendCommand` action. */
export interface SendCommandParams {
  readonly label: string;
  readonly channel: string;
  readonly sideEffect: boolean;
}

/** Parameters of the `armTimeout` action. */
export interface ArmTimeoutParams {
  readonly event: string;
  readonly ms: number;
}

/** Result of checking an event against the current state, before the machine runs. */
export type EventCheck =
  | { readonly ok: true; readonly transition: SagaTransitionDefinition }
  | { readonly ok: false; readonly code: 'MR_SAGA_UNEXPECTED_EVENT' | 'MR_SAGA_INVALID_EVENT'; readonly reason: string };

export interface CompiledSaga {
  readonly name: string;
  readonly config: SagaConfig;
  readonly machine: AnyStateMachine;
  readonly states: ReadonlyMap<string, SagaStateDefinition>;
  readonly businessStates: ReadonlyMap<number, string | undefined>;
  readonly businessEvents: ReadonlyMap<number, string | undefined>;
  /** sha256 of the definition, stored per saga (which version a saga started on). */
  readonly definitionHash: string;
  /** Every command (output or side effect) by channel, for wiring and `saga graph`. */
  readonly commands: readonly (SagaCommandDefinition & { readonly state: string })[];
  /** Decides whether `event` fits `stateId` and passes its payload schema and guards. */
  check(stateId: string, event: SagaMachineEvent): EventCheck;
}

const GUARD = 'payloadMatches';

function schemaKey(state: string, index: number, kind: 'when' | 'payload'): string {
  return `${state}\u0000${index}\u0000${kind}`;
}

function ajvMessage(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(payload)'} ${e.message ?? 'is invalid'}`).join(', ');
}

function timeoutMs(state: SagaStateDefinition): number | undefined {
  if (state.timeout === undefined) return undefined;
  const ms = parseDuration(state.timeout.after);
  if (ms === undefined) throw new MiaRunError('MR_CONFIG_INVALID_VALUE', `state "${state.id}": timeout.after "${String(state.timeout.after)}" is not a duration`);
  return ms;
}

function entryActions(state: SagaStateDefinition): unknown[] {
  const actions: unknown[] = [];
  if (state.outputCommand) actions.push({ type: 'sendCommand', params: { label: state.outputCommand.label, channel: state.outputCommand.channel, sideEffect: false } });
  for (const effect of state.sideEffects ?? []) actions.push({ type: 'sendCommand', params: { label: effect.label, channel: effect.channel, sideEffect: true } });
  const ms = timeoutMs(state);
  if (ms !== undefined && state.timeout) actions.push({ type: 'armTimeout', params: { event: state.timeout.event, ms } });
  return actions;
}

/**
 * Compiles one saga. Throws `MR_CONFIG_INVALID_VALUE` for what validation should have caught (unknown
 * target states, a bad duration); the config rules report the same with positions.
 *
 * @example
 * const saga = compileSaga('checkout', config.sagas.checkout);
 * const [snapshot, actions] = initialTransition(saga.machine);
 */
export function compileSaga(name: string, config: SagaConfig): CompiledSaga {
  const def = config.machineDefinition;
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validators = new Map<string, ValidateFunction>();
  const states = new Map(def.states.map((s) => [s.id, s]));
  const xstates: Record<string, unknown> = {};
  const commands: (SagaCommandDefinition & { state: string })[] = [];

  for (const state of def.states) {
    if (state.outputCommand) commands.push({ ...state.outputCommand, state: state.id });
    for (const effect of state.sideEffects ?? []) commands.push({ ...effect, state: state.id });
    const on: Record<string, unknown[]> = {};
    (state.outgoingTransitions ?? []).forEach((t, i) => {
      if (!states.has(t.targetState)) throw new MiaRunError('MR_CONFIG_INVALID_VALUE', `saga "${name}": state "${state.id}" goes to unknown state "${t.targetState}"`);
      if (t.payloadValidationSchema) validators.set(schemaKey(state.id, i, 'payload'), ajv.compile(t.payloadValidationSchema));
      // reenter: entering a state again (a self-transition) sends its command again, as in Mia.
      const target: Record<string, unknown> = { target: t.targetState, reenter: true };
      if (t.when) {
        const key = schemaKey(state.id, i, 'when');
        validators.set(key, ajv.compile(t.when));
        target.guard = { type: GUARD, params: { schema: key } };
      }
      (on[t.inputEvent] ??= []).push(target);
    });
    xstates[state.id] = { ...(state.isFinal === true ? { type: 'final' } : {}), entry: entryActions(state), on };
  }
  if (!states.has(def.initialState)) throw new MiaRunError('MR_CONFIG_INVALID_VALUE', `saga "${name}": initialState "${def.initialState}" is not a state`);

  const matches = (key: string, payload: unknown): boolean => validators.get(key)?.(payload ?? {}) === true;
  const machine = setup({
    types: {} as { events: SagaMachineEvent },
    actions: {
      // Interpreted by the runtime from the actions `transition()` returns; bound here so names resolve.
      sendCommand: (_args, _params: SendCommandParams) => undefined,
      armTimeout: (_args, _params: ArmTimeoutParams) => undefined,
    },
    guards: {
      [GUARD]: ({ event }, params: { schema: string }) => matches(params.schema, event.payload),
    },
  }).createMachine({ id: name, initial: def.initialState, context: {}, states: xstates } as never);

  return {
    name,
    config,
    machine: machine as unknown as AnyStateMachine,
    states,
    businessStates: new Map((def.businessStates ?? []).map((b) => [b.id, b.description])),
    businessEvents: new Map((def.businessEvents ?? []).map((b) => [b.id, b.description])),
    definitionHash: createHash('sha256').update(JSON.stringify(def)).digest('hex').slice(0, 16),
    commands,
    check(stateId, event) {
      const state = states.get(stateId);
      const candidates = (state?.outgoingTransitions ?? []).map((t, i) => ({ t, i })).filter(({ t }) => t.inputEvent === event.type);
      if (state === undefined || candidates.length === 0) {
        const expected = (state?.outgoingTransitions ?? []).map((t) => t.inputEvent);
        const why = state?.isFinal === true ? 'the saga is in a final state' : `expected one of: ${expected.length > 0 ? expected.join(', ') : '(none)'}`;
        return { ok: false, code: 'MR_SAGA_UNEXPECTED_EVENT', reason: `event "${event.type}" does not fit state "${stateId}"; ${why}` };
      }
      const chosen = candidates.find(({ t, i }) => t.when === undefined || matches(schemaKey(stateId, i, 'when'), event.payload));
      if (chosen === undefined) {
        return { ok: false, code: 'MR_SAGA_UNEXPECTED_EVENT', reason: `event "${event.type}" matches no guard (when) of state "${stateId}"` };
      }
      const validate = validators.get(schemaKey(stateId, chosen.i, 'payload'));
      if (validate && !validate(event.payload ?? {})) {
        return { ok: false, code: 'MR_SAGA_INVALID_EVENT', reason: `payload of "${event.type}" does not match the transition's payloadValidationSchema: ${ajvMessage(validate)}` };
      }
      return { ok: true, transition: chosen.t };
    },
  };
}
