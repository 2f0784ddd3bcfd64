/**
 * `mia-run topics list|produce|consume|lag <project.yaml> ...`: the project's event bus from the command line,
 * whichever backend the descriptor picks (embedded or Kafka). Only the bus is opened, so the commands work
 * while a server runs on the same project (`--data-dir` as for `mia-run run`). See docs/topics.md.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { BindAction, CliCommand } from '../command.js';

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a positive whole number`);
  return n;
}

const load = (name: 'listAction' | 'produceAction' | 'consumeAction' | 'lagAction') => () => import('./topics-action.js').then((m) => m[name]);

function common(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'where the embedded bus keeps its files (as for "mia-run run")', '.data')
    .addOption(new Option('--log-level <level>', 'log level of the bus client (on stderr)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('error'));
}

function declare(program: Command, bind: BindAction): void {
  const topics = program.command('topics').description("list, produce to, consume from and measure the lag of the project's event bus topics");
  bind(
    common(topics.command('list').description('list the topics with their partitions and message counts').argument('<file>', 'project descriptor'))
      .option('--all', 'also list topics on the bus that the descriptor does not declare')
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text')),
    load('listAction'),
  );
  bind(
    common(topics.command('produce').description('publish NDJSON from stdin, one message per line').argument('<file>', 'project descriptor').argument('<topic>', 'topic name'))
      .option('--key-field <field>', "value field (dotted path) that gives each message's key; default the topic's declared key")
      .option('--envelope', 'each line is { "key", "value", "headers"?, "timestamp"? } (null value: tombstone)'),
    load('produceAction'),
  );
  bind(
    common(topics.command('consume').description('print messages as NDJSON, one per line').argument('<file>', 'project descriptor').argument('<topic>', 'topic name'))
      .option('--from-beginning', 'start at the first kept message when the group has no committed offset')
      .option('--group <group>', 'consumer group (its offsets are committed); default a new throw-away group')
      .addOption(new Option('--max <n>', 'stop after n messages').argParser(count))
      .option('--idle <duration>', 'stop after this long without a new message, e.g. 2s (default: wait until Ctrl-C or --max)')
      .option('--envelope', 'print { "topic", "partition", "offset", "key", "value", "headers", "timestamp" } per line'),
    load('consumeAction'),
  );
  bind(
    common(topics.command('lag').description('committed offset, end offset and lag per consumer group and partition').argument('<file>', 'project descriptor'))
      .option('--group <group...>', 'consumer groups to show; default every group the bus knows (Kafka)')
      .option('--all', 'also show topics the descriptor does not declare')
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text')),
    load('lagAction'),
  );
}

export const topicsCommand: CliCommand = { declare };
