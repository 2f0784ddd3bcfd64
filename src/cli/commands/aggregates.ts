/**
 * `mia-run aggregates rebuild <project.yaml> <read-model>`: replays the event store into a fresh read model
 * (fast-data.md §8). Only the aggregate's database is opened, so it works beside a running server on the
 * same project (`--data-dir` as for `mia-run run`). See docs/eventsourcing.md.
 */
import { Option, type Command } from 'commander';
import type { BindAction, CliCommand } from '../command.js';

function declare(program: Command, bind: BindAction): void {
  const aggregates = program.command('aggregates').description('maintain event-sourced aggregates and their read models');
  bind(
    aggregates
      .command('rebuild')
      .description('drop a read model and fold every stored event into it again')
      .argument('<file>', 'project descriptor')
      .argument('<read-model>', 'read model name (aggregates.<name>.readModels[].name)')
      .option('--data-dir <dir>', 'where the embedded store keeps its files (as for "mia-run run")', '.data')
      .addOption(new Option('--log-level <level>', 'log level (on stderr)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('error')),
    () => import('./aggregates-action.js').then((m) => m.rebuildAction),
  );
}

export const aggregatesCommand: CliCommand = { declare };
