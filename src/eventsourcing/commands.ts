/**
 * Named commands of an aggregate (fast-data.md §8), `POST {basePath}/{id}/{command}`: load the current state,
 * check the expected version, validate the body, run the declared guards, decide the events (`emits`: the
 * body becomes that event's data; `handler`: a code hook `(state, input, ctx) => events`), then append with
 * the loaded version as the expected one. A rejection (failed guard, `ctx.reject`) is 422 `MR_ES_REJECTED`
 * and stores nothing. Without `If-Match` the load-decide-append cycle is retried when another writer got in
 * between (3 attempts), then 409. A repeated `Idempotency-Key` answers the first result without deciding.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { CommandDefinition, CommandGuard, GuardOperand } from '../config/sections/aggregates.js';
import { isMiaRunError, MiaRunError } from '../errors.js';
import type { Aggregate } from './aggregate.js';
import { conflict, type EventMetadata, type StoredEvent } from './event-store.js';
import { getPath, type State } from './fold.js';
import { createMetricEmitter } from '../ports/telemetry.js';

const metrics = createMetricEmitter('eventsourcing');

/** What a command handler receives besides the state and the input. */
export interface CommandContext {
  readonly aggregateId: string;
  /** Version the state was folded to (0: the aggregate does not exist yet). */
  readonly version: number;
  readonly command: string;
  /** Rejects the command (422 `MR_ES_REJECTED`); nothing is stored. */
  reject(message: string, details?: Readonly<Record<string, unknown>>): never;
}

export interface DecidedEvent {
  readonly type: string;
  readonly data?: unknown;
}

/** A code command handler: the events to append (none: a no-op), or `ctx.reject(...)`. */
export type CommandHandler = (state: Readonly<State>, input: Readonly<Record<string, unknown>>, ctx: CommandContext) => DecidedEvent | readonly DecidedEvent[] | Promise<DecidedEvent | readonly DecidedEvent[]>;

export interface CommandResult {
  readonly created: boolean;
  readonly version: number;
  readonly events: readonly StoredEvent[];
}

export interface Command {
  readonly name: string;
  run(id: string, body: unknown, expectedVersion: number | undefined, metadata: EventMetadata): Promise<CommandResult>;
}

const ATTEMPTS = 3;
const OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'] as const;

function reject(message: string, details?: Readonly<Record<string, unknown>>): never {
  throw new MiaRunError('MR_ES_REJECTED', message, details === undefined ? {} : { details });
}

function resolveOperand(operand: GuardOperand | undefined, state: State, input: Record<string, unknown>): unknown {
  if (typeof operand === 'object' && operand !== null) return 'state' in operand ? getPath(state, operand.state) : getPath(input, operand.input);
  return operand;
}

function compare(op: (typeof OPERATORS)[number], left: unknown, right: unknown): boolean {
  if (op === 'eq' || op === 'ne') {
    const same = JSON.stringify(left ?? null) === JSON.stringify(right ?? null);
    return op === 'eq' ? same : !same;
  }
  const comparable = (typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string');
  if (!comparable) return false;
  const l = left as number | string;
  const r = right as number | string;
  return op === 'gt' ? l > r : op === 'gte' ? l >= r : op === 'lt' ? l < r : l <= r;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value ?? null));

/** Throws `MR_ES_REJECTED` for the first guard that does not hold. */
export function checkGuards(guards: readonly CommandGuard[], state: State, input: Record<string, unknown>): void {
  guards.forEach((guard, i) => {
    const op = OPERATORS.find((o) => o in guard) ?? 'eq';
    const [side, path] = 'state' in guard ? ['state', guard.state] : ['input', guard.input];
    const left = side === 'state' ? getPath(state, path) : getPath(input, path);
    const right = resolveOperand(guard[op], state, input);
    if (compare(op, left, right)) return;
    const message = guard.message === undefined
      ? `${side}.${path} ${op} ${text(right)} does not hold (${side}.${path} is ${text(left)})`
      : guard.message.replace(/\{(state|input)\.([A-Za-z0-9_.-]+)\}/g, (_m, where: string, p: string) => text(getPath(where === 'state' ? state : input, p)));
    reject(message, { guard: i });
  });
}

const asEvents = (decided: DecidedEvent | readonly DecidedEvent[] | undefined | null): readonly DecidedEvent[] => (decided === undefined || decided === null ? [] : Array.isArray(decided) ? decided : [decided as DecidedEvent]);

export interface CommandOptions {
  readonly name: string;
  readonly definition: CommandDefinition;
  readonly aggregate: Aggregate;
  /** Schema of the emitted event (default input schema for `emits`). */
  readonly eventSchema?: Readonly<Record<string, unknown>>;
  readonly handler?: CommandHandler;
  readonly ajv: Ajv;
}

/** Compiles one declared command; `handler` is the loaded code hook when the definition has one. */
export function createCommand(options: CommandOptions): Command {
  const { name, definition, aggregate, handler, ajv } = options;
  const schema = definition.input ?? (definition.emits === undefined ? undefined : options.eventSchema);
  const validator: ValidateFunction | undefined = schema === undefined ? undefined : ajv.compile(schema);
  const guards = definition.guards ?? [];
  const creates = definition.creates === true;

  const validate = (body: unknown): Record<string, unknown> => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new MiaRunError('MR_ES_INVALID_COMMAND', `the body of command "${name}" must be a JSON object`);
    if (validator !== undefined && !validator(body)) {
      const reasons = (validator.errors ?? []).map((e) => `${e.instancePath === '' ? 'body' : `body${e.instancePath.replaceAll('/', '.')}`} ${e.message ?? 'is invalid'}`);
      throw new MiaRunError('MR_ES_INVALID_COMMAND', `invalid "${name}" command: ${reasons.join('; ')}`, { details: { errors: validator.errors } });
    }
    return body as Record<string, unknown>;
  };

  const decide = async (id: string, input: Record<string, unknown>, state: State, version: number): Promise<readonly DecidedEvent[]> => {
    try {
      checkGuards(guards, state, input);
      if (definition.emits !== undefined) return [{ type: definition.emits, data: input }];
      if (handler === undefined) throw new MiaRunError('MR_RUNTIME_NOT_READY', `command "${name}" has no handler loaded`);
      return asEvents(await handler(structuredClone(state), structuredClone(input), { aggregateId: id, version, command: name, reject }));
    } catch (err) {
      if (isMiaRunError(err) && err.code === 'MR_ES_REJECTED') metrics.count('commands_rejected', 'Commands rejected by a guard or handler (422)', { aggregate: aggregate.name, command: name });
      throw err;
    }
  };

  return {
    name,
    async run(id, body, expectedVersion, metadata) {
      const input = validate(body ?? {});
      if (metadata.commandId !== undefined) {
        const earlier = await aggregate.findCommand(id, metadata.commandId);
        if (earlier !== undefined) return { created: earlier[0]?.version === 1, version: earlier[earlier.length - 1]?.version ?? 0, events: earlier };
      }
      for (let attempt = 1; ; attempt++) {
        const current = await aggregate.load(id);
        const version = current?.version ?? 0;
        if (creates && version !== 0) throw conflict(expectedVersion ?? 0, version);
        if (!creates && version === 0) throw new MiaRunError('MR_ES_NOT_FOUND', `no ${aggregate.name} with id "${id}"`, { hint: 'a command that creates the aggregate comes first' });
        if (expectedVersion !== undefined && expectedVersion !== version) throw conflict(expectedVersion, version);
        const decided = await decide(id, input, current?.state ?? aggregate.initialState(), version);
        if (decided.length === 0) return { created: false, version, events: [] };
        try {
          const stored = await aggregate.append(id, decided.map((e) => ({ type: e.type, data: e.data ?? {} })), version, metadata);
          return { created: stored[0]?.version === 1, version: stored[stored.length - 1]?.version ?? version, events: stored };
        } catch (err) {
          // Another writer appended between our load and our append: decide again on the new state.
          const retry = isMiaRunError(err) && err.code === 'MR_ES_VERSION_CONFLICT' && expectedVersion === undefined && !creates && attempt < ATTEMPTS;
          if (!retry) throw err;
        }
      }
    },
  };
}
