/**
 * Actions of `mia-run fast-data ...` (declared in `fast-data.ts`). Names are checked against the descriptor
 * first (a typo exits 1 with the closest name). Then either the backends are opened (stores used by
 * `fastData` and the bus, through the runtime's registry) and the operation runs here, or, for load and
 * replay and whenever `--url` is given, the running process's `/-/fast-data/` admin route is called.
 */
import { resolve } from 'node:path';
import { loadProject } from '../../config/load-project.js';
import type { ProjectConfig } from '../../config/types.js';
import { MiaRunError, isMiaRunError } from '../../errors.js';
import { systemClock } from '../../ports/clock.js';
import type { EventBus } from '../../ports/event-bus.js';
import type { Backend } from '../../ports/lifecycle.js';
import type { FastDataOperations, FastDataStatus } from '../../projections/operations/index.js';
import { fastDataDatabases, standaloneOperations, targetsOf } from '../../projections/operations/standalone.js';
import { createLogger } from '../../runtime/logger.js';
import { openBus } from '../../runtime/open-bus.js';
import { createBackendRegistry, storeKind } from '../../runtime/registry.js';
import type { Action, CliIo } from '../command.js';
import { formatDiagnostic, formatError } from '../format/text.js';

type Op = 'status' | 'load' | 'replay' | 'refresh' | 'pause' | 'resume' | 'redrive';

interface Options {
  readonly dataDir?: string;
  readonly url?: string;
  readonly format?: 'text' | 'json';
  readonly logLevel?: string;
  readonly key?: string;
}

/** The admin route and body of an operation. */
function route(op: Op, names: readonly string[], key: string | undefined): { method: 'GET' | 'POST'; path: string; body?: unknown } {
  const one = encodeURIComponent(names[0] ?? '');
  switch (op) {
    case 'status':
      return { method: 'GET', path: 'status' };
    case 'load':
    case 'replay':
      return { method: 'POST', path: op, body: { projections: names } };
    case 'redrive':
      return { method: 'POST', path: 'redrive', body: key === undefined ? { topic: names[0] } : { topic: names[0], key } };
    default:
      return { method: 'POST', path: `${op}/${one}` };
  }
}

async function viaProcess(op: Op, names: readonly string[], options: Options, config: ProjectConfig): Promise<unknown> {
  const base = (options.url ?? `http://127.0.0.1:${config.server.port}`).replace(/\/+$/, '');
  const { method, path, body } = route(op, names, options.key);
  let res: Response;
  try {
    res = await fetch(`${base}/-/fast-data/${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  } catch (cause) {
    throw new MiaRunError('MR_FD_OPERATION_UNAVAILABLE', `no mia-run process answered at ${base}`, { cause, hint: `"${op}" runs in the process consuming the projections: start it, or pass its address with --url` });
  }
  const payload = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
  if (!res.ok) throw new MiaRunError(payload.code === 'MR_FD_UNKNOWN_NAME' ? 'MR_FD_UNKNOWN_NAME' : 'MR_FD_OPERATION_UNAVAILABLE', payload.message ?? `HTTP ${res.status} from ${base}`);
  return payload;
}

async function direct(op: Op, names: readonly string[], options: Options, config: ProjectConfig, io: CliIo): Promise<unknown> {
  const logger = createLogger({ level: options.logLevel ?? 'error', destination: process.stderr });
  const dataDir = resolve(io.cwd, options.dataDir ?? '.data');
  const stores = new Map<string, Backend>();
  let bus: EventBus | undefined;
  try {
    const registry = createBackendRegistry();
    for (const name of fastDataDatabases(config)) {
      const db = config.databases[name];
      if (db === undefined) continue;
      const store = registry.create(storeKind(db), name, db as never, { dataDir, logger, clock: systemClock, projectName: config.name });
      await store.start();
      stores.set(name, store);
    }
    bus = await openBus(config, { dataDir, cwd: io.cwd, logger });
    const ops: FastDataOperations = standaloneOperations(config, stores, bus, systemClock, logger);
    switch (op) {
      case 'status':
        return await ops.status();
      case 'refresh':
        return await ops.refresh(names[0]!);
      case 'pause':
        return await ops.pause(names[0]!);
      case 'resume':
        return await ops.resume(names[0]!);
      case 'redrive':
        return await ops.redrive(names[0]!, options.key);
      default:
        return await ops[op](names);
    }
  } finally {
    await bus?.close();
    for (const store of stores.values()) await store.close();
  }
}

function statusText(s: FastDataStatus): string {
  const lines = [`project ${s.project}`, 'projections:'];
  for (const p of s.projections) {
    const parts = p.partitions.map((r) => `${r.partition}:${r.committed ?? '-'}/${r.end}`).join(' ');
    lines.push(`  ${p.name} (${p.sor}, topic ${p.topic})${p.paused ? ' PAUSED' : ''}${p.loading === true ? ' LOADING' : ''}: lag ${p.lag} [${parts}], documents ${p.documents.public} public / ${p.documents.deleted} deleted / ${p.documents.total} total, dead letters ${p.deadLetters.messages} on ${p.deadLetters.topic}`);
  }
  lines.push('single views:');
  for (const v of s.views) {
    const oldest = v.journal.oldestSeconds === null ? '' : `, oldest ${v.journal.oldestSeconds.toFixed(1)} s`;
    lines.push(`  ${v.name}${v.paused ? ' PAUSED' : ''}: documents ${v.documents}, journal ${v.journal.ready} ready${oldest}`);
  }
  return `${lines.join('\n')}\n`;
}

function resultText(op: Op, result: Record<string, unknown>): string {
  switch (op) {
    case 'pause':
    case 'resume':
      return `${String(result.kind)} ${String(result.name)}: ${op === 'pause' ? 'paused' : 'resumed'}${result.changed === false ? ' (already)' : ''}\n`;
    case 'refresh':
      return `${String(result.view)}: ${String(result.recomputed)} document(s) recomputed ${JSON.stringify(result.results)}\n`;
    case 'redrive':
      return `${String(result.topic)}: ${String(result.redriven)} dead letter(s) sent back to ${String(result.to)}${Number(result.skipped) > 0 ? `, ${String(result.skipped)} with another key left` : ''}\n`;
    default: {
      const warnings = (result.warnings as string[] | undefined) ?? [];
      const cleared = result.cleared === undefined ? '' : ` (cleared ${JSON.stringify(result.cleared)})`;
      return `${op} started: ${((result.projections as string[] | undefined) ?? []).join(', ')}${cleared}\n${warnings.map((w) => `warning: ${w}\n`).join('')}`;
    }
  }
}

/** The action of one operation. */
export function fastDataAction(op: Op): Action {
  return async ({ args, options, io }) => {
    const file = String(args[0]);
    const rest = args.slice(1).flatMap((a) => (Array.isArray(a) ? a.map(String) : [String(a)]));
    const opts = options as Options;
    const loaded = await loadProject(file, { env: io.env, cwd: io.cwd });
    for (const d of loaded.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
    const config = loaded.config;
    if (config === undefined || loaded.diagnostics.some((d) => d.severity === 'error')) return 1;
    try {
      const targets = targetsOf(config);
      if (op === 'redrive') targets.byDeadLetterTopic(rest[0]!);
      else if (op === 'refresh') targets.resolve(rest[0]!, 'view');
      else if (op === 'load' || op === 'replay') for (const n of rest) targets.resolve(n, 'projection');
      else if (op !== 'status') targets.resolve(rest[0]!);
      const result = opts.url !== undefined || op === 'load' || op === 'replay' ? await viaProcess(op, rest, opts, config) : await direct(op, rest, opts, config, io);
      if (opts.format === 'json') io.stdout(`${JSON.stringify(result, null, 2)}\n`);
      else io.stdout(op === 'status' ? statusText(result as FastDataStatus) : resultText(op, result as Record<string, unknown>));
      return 0;
    } catch (err) {
      if (!isMiaRunError(err)) throw err;
      io.stderr(`${formatError(err)}\n`);
      return 1;
    }
  };
}
