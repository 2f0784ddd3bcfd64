/**
 * Rules for `aggregates:` (fast-data.md §8): the database and publish topic are declared ("did you mean"),
 * every event schema is a JSON Schema ajv can compile, fold handlers name declared event types, upcasters
 * cover every older schema version once, one fold per state/read model, read models need a publish topic
 * and have unique names (the `aggregates rebuild` argument) and collections; commands emit declared events
 * (or name a handler, checked as a code hook), have compilable input schemas and one operator per guard.
 */
import { Ajv } from 'ajv';
import { didYouMean } from '../diagnostics.js';
import type { Path } from '../locate.js';
import type { AggregateConfig, CommandDefinition, FoldHandlers } from '../sections/aggregates.js';
import type { Diagnostic } from '../types.js';
import type { ConfigRule } from './rule.js';

type Report = (path: Path, code: Diagnostic['code'], message: string, extra?: { hint?: string; target?: 'key' }) => void;

function checkEvents(base: Path, aggregate: AggregateConfig, report: Report): void {
  const ajv = new Ajv({ allErrors: true, strict: false });
  for (const [type, event] of Object.entries(aggregate.events)) {
    const at: Path = [...base, 'events', type];
    try {
      ajv.compile(event.schema);
    } catch (err) {
      report([...at, 'schema'], 'MR_CONFIG_INVALID_VALUE', `the schema of event "${type}" is not a valid JSON Schema: ${err instanceof Error ? err.message : String(err)}`, { target: 'key' });
    }
    const version = event.version ?? 1;
    const seen = new Set<number>();
    (event.upcasters ?? []).forEach((upcaster, i) => {
      if (upcaster.from >= version) {
        report([...at, 'upcasters', i, 'from'], 'MR_CONFIG_INVALID_VALUE', `upcaster from version ${upcaster.from} of event "${type}" is not older than its version ${version}`, { hint: 'raise the event version, or remove the upcaster' });
      } else if (seen.has(upcaster.from)) {
        report([...at, 'upcasters', i, 'from'], 'MR_CONFIG_DUPLICATE', `event "${type}" already has an upcaster from version ${upcaster.from}`);
      }
      seen.add(upcaster.from);
    });
    const missing = Array.from({ length: version - 1 }, (_, i) => i + 1).filter((v) => !seen.has(v));
    if (missing.length > 0) {
      report([...at, event.version === undefined ? 'schema' : 'version'], 'MR_CONFIG_INVALID_VALUE', `event "${type}" is at version ${version} but has no upcaster from version ${missing.join(', ')}`, {
        hint: 'stored events of every older version must be upcast: add `upcasters: [{ from: n, rename/defaults/remove/hook }]`',
      });
    }
  }
}

function checkHandlers(at: Path, handlers: FoldHandlers | undefined, events: readonly string[], allowDelete: boolean, report: Report): void {
  for (const [type, operations] of Object.entries(handlers ?? {})) {
    if (!events.includes(type)) report([...at, type], 'MR_CONFIG_UNKNOWN_REF', `"${type}" is not an event type of this aggregate${didYouMean(type, events)}`, { target: 'key' });
    operations.forEach((op, i) => {
      if ('delete' in op && !allowDelete) report([...at, type, i], 'MR_CONFIG_INVALID_VALUE', '`delete` only applies to read models', { hint: 'to clear the state, use `unset` on its fields' });
    });
  }
}

const GUARD_OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'] as const;

function checkCommand(at: Path, name: string, command: CommandDefinition, events: readonly string[], report: Report): void {
  if (name === 'events') report(at, 'MR_CONFIG_INVALID_VALUE', 'a command cannot be named "events": `POST {basePath}/{id}/events` is the raw append route', { target: 'key', hint: 'rename the command' });
  if (command.emits !== undefined && command.handler !== undefined) report([...at, 'handler'], 'MR_CONFIG_INVALID_VALUE', `command "${name}" has both \`emits\` and \`handler\`; declare one`, { target: 'key' });
  if (command.emits === undefined && command.handler === undefined) report(at, 'MR_CONFIG_MISSING_KEY', `command "${name}" has neither \`emits\` nor \`handler\``, { target: 'key', hint: 'add `emits: <EventType>` (the body becomes its data) or `handler: { module, export }`' });
  if (command.emits !== undefined && !events.includes(command.emits)) report([...at, 'emits'], 'MR_CONFIG_UNKNOWN_REF', `"${command.emits}" is not an event type of this aggregate${didYouMean(command.emits, events)}`);
  if (command.input !== undefined) {
    try {
      new Ajv({ allErrors: true, strict: false }).compile(command.input);
    } catch (err) {
      report([...at, 'input'], 'MR_CONFIG_INVALID_VALUE', `the input schema of command "${name}" is not a valid JSON Schema: ${err instanceof Error ? err.message : String(err)}`, { target: 'key' });
    }
  }
  (command.guards ?? []).forEach((guard, i) => {
    const operators = GUARD_OPERATORS.filter((op) => op in guard);
    if (operators.length !== 1) report([...at, 'guards', i], 'MR_CONFIG_INVALID_VALUE', `a guard compares with exactly one of ${GUARD_OPERATORS.join(', ')}; found ${operators.length === 0 ? 'none' : operators.join(', ')}`);
  });
}

function checkAggregate(name: string, aggregate: AggregateConfig, ctx: { databases: string[]; topics: string[] }, report: Report): void {
  const base: Path = ['aggregates', name];
  const database = aggregate.database ?? 'default';
  if (!ctx.databases.includes(database)) report([...base, 'database'], 'MR_CONFIG_UNKNOWN_REF', `"${database}" is not a declared database${didYouMean(database, ctx.databases)}`);
  const topic = aggregate.publish?.topic;
  if (topic !== undefined && !ctx.topics.includes(topic)) {
    report([...base, 'publish', 'topic'], 'MR_CONFIG_UNKNOWN_REF', `topic "${topic}" is not declared in bus.topics${didYouMean(topic, ctx.topics)}`, { hint: 'declare it under bus.topics so it exists on every backend' });
  }
  checkEvents(base, aggregate, report);
  const events = Object.keys(aggregate.events);
  if (aggregate.state?.on !== undefined && aggregate.state.reducer !== undefined) {
    report([...base, 'state', 'reducer'], 'MR_CONFIG_INVALID_VALUE', 'state has both `on` and `reducer`; declare one fold', { target: 'key' });
  }
  checkHandlers([...base, 'state', 'on'], aggregate.state?.on, events, false, report);
  (aggregate.readModels ?? []).forEach((model, i) => {
    const at: Path = [...base, 'readModels', i];
    if (model.on !== undefined && model.reduce !== undefined) report([...at, 'reduce'], 'MR_CONFIG_INVALID_VALUE', `read model "${model.name}" has both \`on\` and \`reduce\`; declare one fold`, { target: 'key' });
    if (model.on === undefined && model.reduce === undefined) report([...at, 'name'], 'MR_CONFIG_MISSING_KEY', `read model "${model.name}" has neither \`on\` nor \`reduce\``, { hint: 'add `on: { <EventType>: [ { set|inc|dec|push|unset|merge|delete } ] }` or `reduce: { module, export }`' });
    checkHandlers([...at, 'on'], model.on, events, true, report);
    if (topic === undefined) report([...at, 'name'], 'MR_CONFIG_MISSING_KEY', `read model "${model.name}" is fed by published events, but aggregate "${name}" has no publish.topic`, { hint: 'add publish: { topic: <a bus.topics entry> }' });
  });
  for (const [command, definition] of Object.entries(aggregate.commands ?? {})) checkCommand([...base, 'commands', command], command, definition, events, report);
}

export const aggregateDefinitions: ConfigRule = {
  name: 'aggregate-definitions',
  check: (ctx) => {
    const found: Diagnostic[] = [];
    const report: Report = (path, code, message, extra = {}) => found.push(ctx.report({ code, path, message, ...(extra.hint === undefined ? {} : { hint: extra.hint }), ...(extra.target ? { target: extra.target } : {}) }));
    const refs = { databases: Object.keys(ctx.config.databases), topics: Object.keys(ctx.config.bus.topics) };
    const names = new Map<string, string>();
    const collections = new Map<string, string>();
    for (const [name, aggregate] of Object.entries(ctx.config.aggregates)) {
      checkAggregate(name, aggregate, refs, report);
      (aggregate.readModels ?? []).forEach((model, i) => {
        const where = `aggregates.${name}.readModels[${i}]`;
        const first = names.get(model.name);
        if (first !== undefined) report(['aggregates', name, 'readModels', i, 'name'], 'MR_CONFIG_DUPLICATE', `read model "${model.name}" is already declared at ${first}`);
        else names.set(model.name, where);
        const collection = `${aggregate.database ?? 'default'}/${model.collection ?? model.name}`;
        const owner = collections.get(collection);
        if (owner !== undefined && first === undefined) report(['aggregates', name, 'readModels', i, model.collection === undefined ? 'name' : 'collection'], 'MR_CONFIG_DUPLICATE', `collection "${model.collection ?? model.name}" is already written by ${owner}`);
        else collections.set(collection, where);
      });
    }
    return found;
  },
};

export const aggregateRules: readonly ConfigRule[] = [aggregateDefinitions];
