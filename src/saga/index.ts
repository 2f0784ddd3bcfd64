/**
 * The sagas capability (role `sagas`): one engine per `sagas.<name>`, compiled at creation, started with the
 * runtime. Routes: one plugin per saga name (mounted by the gateway behind `target: { saga: name }`) and
 * `/-/sagas` (counts per state). Commands go out on their channels; events come in from the bus (a consumer
 * group per saga) or over `POST /event`.
 */
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import type { SagaConfig } from '../config/sections/sagas.js';
import { parseDuration } from '../config/units.js';
import { MiaRunError } from '../errors.js';
import type { CapabilityContext } from '../ports/capability-context.js';
import { isDocumentStore } from '../ports/document-store.js';
import type { EventBus, Subscription } from '../ports/event-bus.js';
import type { Capability } from '../ports/lifecycle.js';
import { buildPolicies } from '../resilience/index.js';
import { createCommandSenders } from './channels.js';
import { compileSaga } from './compile.js';
import { definitionsCollectionName } from './definitions.js';
import { sagaEventHandler } from './consumer.js';
import { createSagaEngine, type CommandRetry, type PayloadHook, type SagaEngine } from './engine.js';
import { createSagaRepository } from './repository.js';
import { sagaRoutes, sagaSummaryRoutes } from './routes.js';

export { compileSaga, type CompiledSaga } from './compile.js';
export { sagaToMermaid } from './graph.js';

/** Default collection of a saga's documents. */
export const sagaCollectionName = (name: string, config: SagaConfig): string => config.collection ?? `sagas-${name}`;

function commandRetry(config: SagaConfig): CommandRetry {
  const r = config.commandRetry ?? {};
  return { attempts: r.attempts ?? 5, baseMs: parseDuration(r.base ?? '1s') ?? 1000, maxMs: parseDuration(r.max ?? '1m') ?? 60_000 };
}

async function loadHooks(config: SagaConfig, baseDir: string): Promise<Map<string, PayloadHook>> {
  const hooks = new Map<string, PayloadHook>();
  const commands = config.machineDefinition.states.flatMap((s) => [...(s.outputCommand ? [s.outputCommand] : []), ...(s.sideEffects ?? [])]);
  for (const command of commands) {
    if (command.hook === undefined) continue;
    const mod = (await import(pathToFileURL(resolve(baseDir, command.hook.module)).href)) as Record<string, unknown>;
    const fn = mod[command.hook.export ?? 'default'];
    if (typeof fn !== 'function') throw new MiaRunError('MR_CONFIG_CODE_HOOK', `hook of command "${command.label}": "${command.hook.export ?? 'default'}" is not a function`);
    hooks.set(command.label, fn as PayloadHook);
  }
  return hooks;
}

/**
 * Wires every declared saga. No I/O until `start()`.
 *
 * @example
 * const sagas = createSagas(ctx);
 * await sagas.start(); // indexes, overdue timers and commands, bus consumers
 */
export function createSagas(ctx: CapabilityContext): Capability {
  const bus = ctx.bus.kind.startsWith('bus.') ? (ctx.bus as EventBus) : undefined;
  const policies = buildPolicies(ctx.config.policies, { clock: ctx.clock });
  const engines: SagaEngine[] = [];
  const hooksOf = new Map<SagaEngine, Map<string, PayloadHook>>();
  const routes = new Map<string, FastifyPluginAsync>();
  const eventTopics = new Map<string, number>();

  for (const [name, config] of Object.entries(ctx.config.sagas)) {
    const database = config.database ?? 'default';
    const store = ctx.stores.get(database);
    if (store === undefined || !isDocumentStore(store)) throw new MiaRunError('MR_RUNTIME_START', `saga "${name}": database "${database}" is not a document store`);
    const saga = compileSaga(name, config);
    const hooks = new Map<string, PayloadHook>();
    const engine = createSagaEngine({
      saga,
      repository: createSagaRepository(store.collection(sagaCollectionName(name, config))),
      definitions: store.collection(definitionsCollectionName(sagaCollectionName(name, config))),
      senders: createCommandSenders(config.channels ?? {}, { sagaName: name, bus, policies }),
      clock: ctx.clock,
      logger: ctx.logger.child({ saga: name }),
      hooks,
      retry: commandRetry(config),
      leaseMs: parseDuration(config.commandRetry?.lease ?? '30s') ?? 30_000,
    });
    engines.push(engine);
    hooksOf.set(engine, hooks);
    routes.set(name, sagaRoutes(engine));
    for (const channel of Object.values(config.channels ?? {})) if (channel.kind === 'bus' && channel.events) eventTopics.set(channel.events, (eventTopics.get(channel.events) ?? 0) + 1);
  }
  if (engines.length > 0) routes.set('/', sagaSummaryRoutes(engines));

  const subscriptions: Subscription[] = [];
  return {
    name: 'sagas',
    routes,
    async start() {
      const baseDir = dirname(ctx.config.sourceFile);
      for (const engine of engines) for (const [label, hook] of await loadHooks(engine.saga.config, baseDir)) hooksOf.get(engine)?.set(label, hook);
      for (const engine of engines) await engine.start();
      for (const engine of engines) {
        const name = engine.saga.name;
        const subscribed = new Set<string>();
        for (const channel of Object.values(engine.saga.config.channels ?? {})) {
          if (channel.kind !== 'bus' || channel.events === undefined || bus === undefined) continue;
          const group = channel.consumerGroup ?? `mia-run-saga-${name}`;
          if (subscribed.has(`${group}\u0000${channel.events}`)) continue;
          subscribed.add(`${group}\u0000${channel.events}`);
          const handler = sagaEventHandler(engine, { sharedTopic: (eventTopics.get(channel.events) ?? 0) > 1, logger: ctx.logger.child({ saga: name }) });
          subscriptions.push(await bus.subscribe({ group, topics: [channel.events], fromBeginning: true, handler }));
        }
      }
    },
    async stop() {
      await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
      for (const engine of engines) await engine.stop();
    },
    async health() {
      return { name: 'sagas', status: 'OK', message: `${engines.length} saga definition(s)` };
    },
  };
}
