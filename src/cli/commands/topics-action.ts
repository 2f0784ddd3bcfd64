/**
 * Actions of `mia-run topics ...` (declared in `topics.ts`). Each loads the descriptor, opens only its bus
 * through the runtime's registry (`openBus`), does its work and closes the bus. Problems a user can fix (an
 * invalid descriptor, an unknown topic, a bad input line, an unreachable broker) print one clear line on
 * stderr and exit 1.
 */
import { randomUUID } from 'node:crypto';
import { relative } from 'node:path';
import { closest } from '../../config/diagnostics.js';
import { loadProject } from '../../config/load-project.js';
import type { ProjectConfig } from '../../config/types.js';
import { parseDuration } from '../../config/units.js';
import { MiaRunError, isMiaRunError } from '../../errors.js';
import type { EventBus, PartitionLag } from '../../ports/event-bus.js';
import { createLogger } from '../../runtime/logger.js';
import { listGroups, openBus } from '../../runtime/open-bus.js';
import type { Action, CliIo } from '../command.js';
import { formatDiagnostic, formatError } from '../format/text.js';
import { consumeTopic, produceTopic } from './topics-stream.js';

interface CommonOptions {
  readonly dataDir?: string;
  readonly logLevel?: string;
  readonly all?: boolean;
  readonly format?: 'text' | 'json';
}

/** Loads the descriptor, opens its bus, runs `work`, closes the bus; maps user-fixable errors to exit 1. */
async function withBus(file: string, options: CommonOptions, io: CliIo, work: (bus: EventBus, config: ProjectConfig) => Promise<number>): Promise<number> {
  const loaded = await loadProject(file, { env: io.env, cwd: io.cwd });
  for (const d of loaded.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
  if (loaded.config === undefined || loaded.diagnostics.some((d) => d.severity === 'error')) return 1;
  const config = loaded.config;
  const logger = createLogger({ level: options.logLevel ?? 'error', destination: process.stderr });
  let bus: EventBus | undefined;
  try {
    bus = await openBus(config, { dataDir: options.dataDir ?? '.data', cwd: io.cwd, logger });
    return await work(bus, config);
  } catch (err) {
    if (!isMiaRunError(err)) throw err;
    io.stderr(`${formatError(err)}\n`);
    return 1;
  } finally {
    await bus?.close();
  }
}

/** Declared topics and their dead-letter topics: what the project owns on the bus. */
function projectTopics(config: ProjectConfig): Set<string> {
  const names = Object.keys(config.bus.topics);
  return new Set([...names, ...names.map((n) => `${n}.DLQ`)]);
}

/** Throws `MR_BUS_UNKNOWN_TOPIC` with a suggestion unless `topic` is the project's or exists on the bus. */
async function checkTopic(bus: EventBus, config: ProjectConfig, topic: string, cwd: string): Promise<void> {
  const own = projectTopics(config);
  if (own.has(topic)) return;
  const existing = (await bus.describeTopics()).map((t) => t.name);
  if (existing.includes(topic)) return;
  const suggestion = closest(topic, own);
  throw new MiaRunError('MR_BUS_UNKNOWN_TOPIC', `Topic "${topic}" is not declared in bus.topics of ${relative(cwd, config.sourceFile) || config.sourceFile}`, {
    details: { topic },
    hint: suggestion === undefined ? 'declare it under bus.topics' : `did you mean "${suggestion}"?`,
  });
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

const duration = (ms: number | undefined): string => (ms === undefined ? 'forever' : ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms}ms`);

export const listAction: Action = ({ args, options, io }) => {
  const opts = options as CommonOptions;
  return withBus(String(args[0]), opts, io, async (bus, config) => {
    const own = projectTopics(config);
    const topics = (await bus.describeTopics()).filter((t) => opts.all === true || own.has(t.name));
    const rows = topics.map((t) => ({
      name: t.name,
      declared: Object.hasOwn(config.bus.topics, t.name),
      partitions: t.partitions.length,
      messages: t.partitions.reduce((n, p) => n + (p.end - p.start), 0),
      key: t.config.key ?? null,
      retentionMs: t.config.retentionMs ?? null,
      offsets: t.partitions,
    }));
    if (opts.format === 'json') {
      io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    const lines = rows.map((r) => [r.name, String(r.partitions), String(r.messages), r.key ?? '-', duration(r.retentionMs ?? undefined)]);
    io.stdout(table([['TOPIC', 'PARTITIONS', 'MESSAGES', 'KEY', 'RETENTION'], ...lines]));
    return 0;
  });
};

export const produceAction: Action = ({ args, options, io }) =>
  withBus(String(args[0]), options as CommonOptions, io, async (bus, config) => {
    const topic = String(args[1]);
    await checkTopic(bus, config, topic, io.cwd);
    const opts = options as { keyField?: string; envelope?: boolean };
    const keyField = opts.keyField ?? config.bus.topics[topic]?.key;
    if (process.stdin.isTTY) io.stderr(`reading NDJSON for "${topic}" from stdin, one message per line; end with Ctrl-D\n`);
    const produced = await produceTopic(bus, topic, process.stdin, {
      envelope: opts.envelope === true,
      keyRequired: opts.keyField !== undefined,
      ...(keyField === undefined ? {} : { keyField }),
    });
    io.stdout(`produced ${produced} message(s) to "${topic}"\n`);
    return 0;
  });

export const consumeAction: Action = ({ args, options, io }) =>
  withBus(String(args[0]), options as CommonOptions, io, async (bus, config) => {
    const topic = String(args[1]);
    await checkTopic(bus, config, topic, io.cwd);
    const opts = options as { group?: string; fromBeginning?: boolean; max?: number; idle?: string; envelope?: boolean };
    let idleMs: number | undefined;
    if (opts.idle !== undefined) {
      idleMs = parseDuration(opts.idle);
      if (idleMs === undefined) throw new MiaRunError('MR_CLI_USAGE', `--idle "${opts.idle}" is not a duration`, { hint: 'for example 500ms, 2s or 1m' });
    }
    const group = opts.group ?? `mia-run-cli-${randomUUID().slice(0, 8)}`;
    // A closed output (`| head`) ends the command like Ctrl-C: what was printed is committed.
    const outputClosed = new AbortController();
    const onOutputError = (): void => outputClosed.abort();
    process.stdout.once('error', onOutputError);
    const consumed = await consumeTopic(bus, topic, {
      signal: outputClosed.signal,
      group,
      fromBeginning: opts.fromBeginning === true,
      envelope: opts.envelope === true,
      write: (line) => io.stdout(`${line}\n`),
      ...(opts.max === undefined ? {} : { max: opts.max }),
      ...(idleMs === undefined ? {} : { idleMs }),
    });
    process.stdout.off('error', onOutputError);
    io.stderr(`consumed ${consumed} message(s) from "${topic}" (group ${group})\n`);
    return 0;
  });

export const lagAction: Action = ({ args, options, io }) => {
  const opts = options as CommonOptions & { group?: string[] };
  return withBus(String(args[0]), opts, io, async (bus, config) => {
    const groups = opts.group ?? (await listGroups(bus));
    if (groups === undefined) {
      throw new MiaRunError('MR_CLI_USAGE', `The ${config.bus.kind} bus cannot list its consumer groups`, { hint: 'name them with --group <group...>' });
    }
    const own = projectTopics(config);
    const rows: (PartitionLag & { group: string })[] = [];
    // A cluster may hold many groups: ask for several at a time, print in group order.
    for (let i = 0; i < groups.length; i += 16) {
      const slice = groups.slice(i, i + 16);
      const lags = await Promise.all(slice.map((group) => bus.lag(group)));
      slice.forEach((group, j) => {
        for (const l of lags[j]!) if (opts.all === true || own.has(l.topic)) rows.push({ group, ...l });
      });
    }
    if (opts.format === 'json') {
      io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    if (rows.length === 0) {
      io.stdout(`no committed offsets on the project's topics${opts.group === undefined ? '' : ` for ${groups.join(', ')}`}\n`);
      return 0;
    }
    const lines = rows.map((r) => [r.group, r.topic, String(r.partition), r.committed === null ? '-' : String(r.committed), String(r.end), String(r.lag)]);
    io.stdout(table([['GROUP', 'TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG'], ...lines]));
    return 0;
  });
};
