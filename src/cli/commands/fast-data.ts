/**
 * `mia-run fast-data <command> <project.yaml> ...` (alias `fastdata`): the Fast Data operations of
 * fast-data.md §7. status, pause, resume, redrive and refresh act directly on the backends of the descriptor
 * (embedded files shared with a running process, or MongoDB/Kafka), so they work with or without a running
 * process; load and replay move the live consumer, so they call the running process's `/-/fast-data/` admin
 * routes (`--url`, default `http://127.0.0.1:<server.port>`). `--url` sends any command there. See
 * docs/fast-data.md.
 */
import { Option, type Command } from 'commander';
import type { BindAction, CliCommand } from '../command.js';

type Op = 'status' | 'load' | 'replay' | 'refresh' | 'pause' | 'resume' | 'redrive';
const load = (op: Op) => () => import('./fast-data-action.js').then((m) => m.fastDataAction(op));

function common(command: Command): Command {
  return command
    .argument('<file>', 'project descriptor')
    .option('--data-dir <dir>', 'where the embedded store and bus keep their files (as for "mia-run run")', '.data')
    .option('--url <url>', 'act through the admin routes of the process at this URL instead of the backends')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(new Option('--log-level <level>', 'log level (on stderr)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('error'));
}

function declare(program: Command, bind: BindAction): void {
  const fd = program.command('fast-data').alias('fastdata').description('operate projections and single views: status, load, refresh, replay, pause, resume, redrive');
  const sub = (name: string, description: string): Command => common(fd.command(name).description(description));
  bind(sub('status', 'per projection: offsets and lag, documents, paused, dead letters; per view: documents, journal'), load('status'));
  bind(sub('load', 'consume projections again from the beginning in bulk mode, then refresh their views (running process)').argument('<projection...>', 'projection names'), load('load'));
  bind(sub('replay', 'clear projections, then load them from the beginning (running process)').argument('<projection...>', 'projection names'), load('replay'));
  bind(sub('refresh', 'recompute every document of a single view from its projections').argument('<view>', 'single view name'), load('refresh'));
  bind(sub('pause', 'stop consuming a projection or recomputing a view (persisted, survives restarts)').argument('<name>', 'projection or single view'), load('pause'));
  bind(sub('resume', 'resume a paused projection or view').argument('<name>', 'projection or single view'), load('resume'));
  bind(sub('redrive', 'send dead letters back to their ingestion topic with their original position').argument('<topic>', 'dead-letter topic').option('--key <key>', 'only the dead letters with this message key'), load('redrive'));
}

export const fastDataCommand: CliCommand = { declare };
