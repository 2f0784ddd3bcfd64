/**
 * One aggregate type at run time: validates events against their declared schemas (400
 * `MR_ES_INVALID_COMMAND`, nothing stored), appends through the event store, folds state from the latest
 * snapshot plus the later events (upcast first), and stores a snapshot each time a commit crosses a
 * multiple of `snapshotEvery` (fast-data.md §8; a snapshot failure never fails the append).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { AggregateConfig } from '../config/sections/aggregates.js';
import { closest } from '../config/diagnostics.js';
import { isMiaRunError, MiaRunError } from '../errors.js';
import type { Collection } from '../ports/document-store.js';
import type { Logger } from '../ports/logger.js';
import { createMetricEmitter } from '../ports/telemetry.js';
import type { EventMetadata, EventStore, StoredEvent } from './event-store.js';
import type { Fold, FoldEvent, State } from './fold.js';
import type { Upcaster } from './upcast.js';

const metrics = createMetricEmitter('eventsourcing');

export interface AggregateState {
  readonly id: string;
  readonly version: number;
  readonly state: State;
}

export interface AggregateOptions {
  readonly name: string;
  readonly config: AggregateConfig;
  readonly events: EventStore;
  readonly snapshots: Collection;
  readonly fold: Fold;
  readonly upcast: Upcaster;
  readonly logger: Logger;
}

export interface Aggregate {
  readonly name: string;
  /** Validates, then appends one or more events; resolves with the stored events. */
  append(id: string, events: readonly { readonly type: string; readonly data: unknown }[], expectedVersion: number | undefined, metadata?: EventMetadata): Promise<readonly StoredEvent[]>;
  /** Current state from the snapshot and the tail; null when the aggregate has no events. */
  load(id: string, options?: { readonly useSnapshot?: boolean }): Promise<AggregateState | null>;
  /** The events a command with this id (`Idempotency-Key`) stored on `id`, if any. */
  findCommand(id: string, commandId: string): Promise<readonly StoredEvent[] | undefined>;
  /** A copy of the declared initial state (the state of an aggregate without events). */
  initialState(): State;
  /** A stored event with its data upcast to the current schema version. */
  upcastEvent(event: FoldEvent): FoldEvent;
  ensureIndexes(): Promise<void>;
}

export function createAggregate(options: AggregateOptions): Aggregate {
  const { name, config, events, snapshots, fold, upcast, logger } = options;
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validators = new Map<string, ValidateFunction>(Object.entries(config.events).map(([type, def]) => [type, ajv.compile(def.schema)]));
  const every = config.snapshotEvery ?? 0;
  const snapshotVersion = config.snapshotVersion ?? 1;
  const types = Object.keys(config.events);

  const upcastEvent = (event: FoldEvent): FoldEvent => {
    const current = config.events[event.type]?.version ?? 1;
    return event.schemaVersion >= current ? event : { ...event, data: upcast(event.type, event.schemaVersion, event.data), schemaVersion: current };
  };

  const validate = (type: string, data: unknown): Readonly<Record<string, unknown>> => {
    const validator = validators.get(type);
    if (validator === undefined) {
      const suggestion = closest(type, types);
      throw new MiaRunError('MR_ES_INVALID_COMMAND', `"${type}" is not an event type of aggregate "${name}"`, { hint: suggestion === undefined ? `event types: ${types.join(', ')}` : `did you mean "${suggestion}"?` });
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new MiaRunError('MR_ES_INVALID_COMMAND', `the payload of "${type}" must be an object`);
    if (!validator(data)) {
      const reasons = (validator.errors ?? []).map((e) => `${e.instancePath === '' ? 'payload' : `payload${e.instancePath.replaceAll('/', '.')}`} ${e.message ?? 'is invalid'}`);
      throw new MiaRunError('MR_ES_INVALID_COMMAND', `invalid "${type}" event: ${reasons.join('; ')}`, { details: { errors: validator.errors } });
    }
    return data as Record<string, unknown>;
  };

  const load = async (id: string, useSnapshot = true): Promise<AggregateState | null> => {
    let version = 0;
    let state: State | null = null;
    if (useSnapshot && every > 0) {
      const snapshot = await snapshots.findOne({ _id: id });
      if (snapshot !== null && snapshot.snapshotVersion === snapshotVersion) {
        version = Number(snapshot.version);
        state = snapshot.state as State;
      }
    }
    for await (const event of events.read(id, version + 1)) {
      state = fold(state, upcastEvent(event));
      version = event.version;
    }
    return version === 0 ? null : { id, version, state: state ?? {} };
  };

  const saveSnapshot = async (id: string): Promise<void> => {
    const current = await load(id);
    if (current === null) return;
    const doc = { version: current.version, state: current.state, snapshotVersion };
    const existing = await snapshots.findOne({ _id: id }, { projection: { version: 1, snapshotVersion: 1 } });
    if (existing === null) {
      try {
        await snapshots.insertOne({ _id: id, aggregateId: id, ...doc });
        return;
      } catch (err) {
        if (!isMiaRunError(err) || err.code !== 'MR_STORE_DUPLICATE_KEY') throw err;
      }
    }
    // Only a newer snapshot (or one of an older fold) is replaced.
    await snapshots.updateOne({ _id: id, $or: [{ version: { $lt: current.version } }, { snapshotVersion: { $ne: snapshotVersion } }] }, { $set: doc });
  };

  return {
    name,
    upcastEvent,
    async ensureIndexes() {
      await events.ensureIndexes();
    },
    async append(id, input, expectedVersion, metadata) {
      if (input.length === 0) throw new MiaRunError('MR_ES_INVALID_COMMAND', 'no events to append');
      let stored: readonly StoredEvent[];
      try {
        const fresh = input.map((e) => ({ type: e.type, schemaVersion: config.events[e.type]?.version ?? 1, data: validate(e.type, e.data) }));
        stored = await events.append(id, fresh, expectedVersion, metadata);
      } catch (err) {
        if (isMiaRunError(err)) metrics.count('appends_refused', 'Appends refused (invalid event, version conflict)', { aggregate: name, code: err.code });
        throw err;
      }
      metrics.count('events_appended', 'Events stored', { aggregate: name }, stored.length);
      const last = stored[stored.length - 1]?.version ?? 0;
      const first = stored[0]?.version ?? 1;
      if (every > 0 && Math.floor(last / every) > Math.floor((first - 1) / every)) {
        await saveSnapshot(id).then(
          () => metrics.count('snapshots_written', 'Snapshots stored', { aggregate: name }),
          (err: unknown) => {
            metrics.count('snapshots_failed', 'Snapshots that could not be stored (appends still succeed)', { aggregate: name });
            logger.warn({ err, aggregate: name, id }, 'snapshot failed; state is still folded from the events');
          },
        );
      }
      return stored;
    },
    load: (id, opts) => load(id, opts?.useSnapshot ?? true),
    findCommand: (id, commandId) => events.findCommand(id, commandId),
    initialState: () => structuredClone(config.state?.initial ?? {}) as State,
  };
}
