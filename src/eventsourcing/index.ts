/**
 * The event-sourcing capability (role `aggregates`, fast-data.md §8): one event store per `aggregates.<name>`
 * on its database, appends with optimistic concurrency inside the outbox transaction, state folded from
 * snapshots + events, read models fed by a consumer group on the publish topic. Routes: one plugin per
 * aggregate name, mounted by the gateway behind `target: { aggregate: name }`.
 */
import { dirname } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { AggregateConfig } from '../config/sections/aggregates.js';
import { MiaRunError } from '../errors.js';
import type { CapabilityContext } from '../ports/capability-context.js';
import { isDocumentStore, type DocumentStore } from '../ports/document-store.js';
import type { EventBus, Subscription } from '../ports/event-bus.js';
import type { Capability } from '../ports/lifecycle.js';
import { createOutbox, type Outbox } from '../outbox/index.js';
import { Ajv } from 'ajv';
import { createAggregate, type Aggregate } from './aggregate.js';
import { createCommand, type Command, type CommandHandler } from './commands.js';
import { createEventStore, type EventStore } from './event-store.js';
import { compileFold, type Fold } from './fold.js';
import { loadHook } from './hooks.js';
import { createReadModel, type ReadModel } from './read-model.js';
import { aggregateRoutes } from './routes.js';
import { compileUpcaster, type UpcastHook } from './upcast.js';

export { createAggregate, type Aggregate, type AggregateState } from './aggregate.js';
export { createEventStore, type EventStore, type StoredEvent } from './event-store.js';
export { compileFold, type Fold, type FoldEvent } from './fold.js';
export type { CommandContext, CommandHandler, DecidedEvent } from './commands.js';
export { createReadModel, type ReadModel } from './read-model.js';

export interface EventSourcingOptions {
  /** Outbox poll interval, ms (tests); default the outbox's. */
  readonly outboxPollMs?: number;
}

/** Consumer group of a read model. */
export const readModelGroup = (name: string): string => `mia-run-es-read-model-${name}`;

interface Wired {
  readonly name: string;
  readonly config: AggregateConfig;
  readonly store: DocumentStore;
  readonly events: EventStore;
  aggregate?: Aggregate;
  readModels: ReadModel[];
  commands: Map<string, Command>;
}

async function compile(w: Wired, baseDir: string, ctx: CapabilityContext): Promise<void> {
  const { config, name } = w;
  w.readModels = [];
  w.commands.clear();
  const upcastHooks = new Map<string, UpcastHook>();
  for (const [type, def] of Object.entries(config.events)) {
    for (const u of def.upcasters ?? []) if (u.hook !== undefined) upcastHooks.set(`${type}:${u.from}`, await loadHook<UpcastHook>(u.hook, baseDir, `upcaster of ${name}.${type} from ${u.from}`));
  }
  const upcast = compileUpcaster(config.events, upcastHooks);
  const initial = config.state?.initial ?? {};
  const stateFold: Fold = config.state?.reducer === undefined ? compileFold(config.state?.on ?? {}, initial) : await hookFold(config.state.reducer, initial, baseDir, `reducer of ${name}`);
  const aggregate = createAggregate({ name, config, events: w.events, snapshots: w.store.collection(`${name}-snapshots`), fold: stateFold, upcast, logger: ctx.logger.child({ aggregate: name }) });
  w.aggregate = aggregate;
  const ajv = new Ajv({ allErrors: true, strict: false });
  for (const [command, definition] of Object.entries(config.commands ?? {})) {
    const handler = definition.handler === undefined ? undefined : await loadHook<CommandHandler>(definition.handler, baseDir, `handler of command ${name}.${command}`);
    const eventSchema = definition.emits === undefined ? undefined : config.events[definition.emits]?.schema;
    w.commands.set(command, createCommand({ name: command, definition, aggregate, ajv, ...(handler === undefined ? {} : { handler }), ...(eventSchema === undefined ? {} : { eventSchema }) }));
  }
  for (const model of config.readModels ?? []) {
    const fold = model.reduce === undefined ? compileFold(model.on ?? {}, model.initial ?? {}) : await hookFold(model.reduce, null, baseDir, `read model ${model.name}`);
    w.readModels.push(createReadModel({ name: model.name, aggregate: name, store: w.store, collection: model.collection ?? model.name, events: w.events, fold, upcast: aggregate.upcastEvent, clock: ctx.clock }));
  }
}

async function hookFold(hook: { module: string; export?: string }, initial: Readonly<Record<string, unknown>> | null, baseDir: string, what: string): Promise<Fold> {
  const fn = await loadHook<Fold>(hook, baseDir, what);
  return (state, event) => fn(state ?? (initial === null ? null : structuredClone(initial) as Record<string, unknown>), event);
}

/**
 * Wires every declared aggregate; no I/O until `start()` (indexes, code hooks, outbox relay, read-model
 * consumers).
 *
 * @example
 * const es = createEventSourcing(ctx);
 * await es.start();
 * app.register(es.routes.get('account')!, { prefix: '/accounts' });
 */
export function createEventSourcing(ctx: CapabilityContext, options: EventSourcingOptions = {}): Capability {
  const bus = ctx.bus.kind.startsWith('bus.') ? (ctx.bus as EventBus) : undefined;
  const outboxes = new Map<string, Outbox>();
  const wired: Wired[] = [];
  const routes = new Map<string, FastifyPluginAsync>();

  for (const [name, config] of Object.entries(ctx.config.aggregates)) {
    const database = config.database ?? 'default';
    const store = ctx.stores.get(database);
    if (store === undefined || !isDocumentStore(store)) throw new MiaRunError('MR_RUNTIME_START', `aggregate "${name}": database "${database}" is not a document store`);
    let outbox: Outbox | undefined;
    if (config.publish !== undefined) {
      if (bus === undefined) throw new MiaRunError('MR_RUNTIME_START', `aggregate "${name}" publishes events but this process has no event bus`);
      outbox = outboxes.get(database);
      if (outbox === undefined) {
        outbox = createOutbox({ store, bus, clock: ctx.clock, logger: ctx.logger.child({ outbox: database }), ...(options.outboxPollMs === undefined ? {} : { pollMs: options.outboxPollMs }) });
        outboxes.set(database, outbox);
      }
    }
    const events = createEventStore({ aggregate: name, store, clock: ctx.clock, ...(outbox === undefined ? {} : { outbox, topic: config.publish?.topic ?? '' }) });
    const w: Wired = { name, config, store, events, readModels: [], commands: new Map() };
    wired.push(w);
    const resolve = (): Aggregate => {
      if (w.aggregate === undefined) throw new MiaRunError('MR_RUNTIME_NOT_READY', `aggregate "${name}" is not started yet`);
      return w.aggregate;
    };
    const command = (commandName: string): Command => {
      const found = w.commands.get(commandName);
      if (found === undefined) throw new MiaRunError('MR_RUNTIME_NOT_READY', `aggregate "${name}" is not started yet`);
      return found;
    };
    routes.set(name, aggregateRoutes(resolve, () => events, () => w.readModels, { names: Object.keys(config.commands ?? {}), get: command }));
  }

  const subscriptions: Subscription[] = [];
  let started = false;
  return {
    name: 'eventsourcing',
    routes,
    async start() {
      if (started) return;
      started = true;
      const baseDir = dirname(ctx.config.sourceFile);
      for (const w of wired) {
        await compile(w, baseDir, ctx);
        await w.aggregate?.ensureIndexes();
      }
      for (const outbox of outboxes.values()) await outbox.start();
      for (const w of wired) {
        const topic = w.config.publish?.topic;
        if (topic === undefined || bus === undefined) continue;
        for (const model of w.readModels) {
          subscriptions.push(await bus.subscribe({ group: readModelGroup(model.name), topics: [topic], fromBeginning: true, handler: (batch, handlerCtx) => model.handle(batch, handlerCtx) }));
        }
      }
    },
    async stop() {
      await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
      for (const outbox of outboxes.values()) await outbox.stop();
      started = false;
    },
    async health() {
      for (const outbox of outboxes.values()) {
        const check = await outbox.health();
        if (check.status === 'KO') return { name: 'eventsourcing', status: 'KO', message: `outbox: ${check.message ?? 'failing'}` };
      }
      return { name: 'eventsourcing', status: 'OK', message: `${wired.length} aggregate(s)` };
    },
  };
}

/**
 * Replays the event store of the aggregate owning `readModel` into a fresh read model (drops it first);
 * resolves with the number of documents written. Used by `mia-run aggregates rebuild`.
 */
export async function rebuildReadModel(ctx: CapabilityContext, readModel: string): Promise<{ aggregate: string; documents: number }> {
  const owner = Object.entries(ctx.config.aggregates).find(([, c]) => (c.readModels ?? []).some((m) => m.name === readModel));
  if (owner === undefined) throw new MiaRunError('MR_CONFIG_UNKNOWN_REF', `"${readModel}" is not a read model of any aggregate`);
  const [name, config] = owner;
  const store = ctx.stores.get(config.database ?? 'default');
  if (store === undefined || !isDocumentStore(store)) throw new MiaRunError('MR_RUNTIME_START', `aggregate "${name}": its database is not a document store`);
  const w: Wired = { name, config, store, events: createEventStore({ aggregate: name, store, clock: ctx.clock }), readModels: [], commands: new Map() };
  await compile(w, dirname(ctx.config.sourceFile), ctx);
  const model = w.readModels.find((m) => m.name === readModel);
  if (model === undefined) throw new MiaRunError('MR_CONFIG_UNKNOWN_REF', `"${readModel}" is not a read model`);
  return { aggregate: name, documents: await model.rebuild() };
}
