/**
 * The CLI entry (`bin/mia-run.js` imports it) and the only place that sets the exit code:
 * 0 ok, 1 invalid input or failed check, 2 usage error or internal error (printed as a bug, with the version).
 */
import { existsSync } from 'node:fs';
import { closest } from '../config/diagnostics.js';
import { VERSION } from '../runtime/version.js';
import type { CliIo } from './command.js';
import { buildProgram, commandNames, CommanderError } from './program.js';

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

function processIo(): CliIo {
  // `mia-run schema | head` closes the pipe early; that is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
  };
}

/** Runs the CLI on `args` (without `node` and the script) and resolves with the exit code. */
export async function runCli(args: readonly string[], io: CliIo = processIo()): Promise<number> {
  const { program, exitCode } = buildProgram(io);
  if (args.length === 0) {
    io.stderr(program.helpInformation());
    return EXIT_USAGE;
  }
  // `run` is the default command, so a mistyped command would be taken for a file name: catch that first.
  const first = args.find((a) => !a.startsWith('-'));
  const names = [...commandNames(program), 'help'];
  if (first !== undefined && first === args[0] && !names.includes(first) && !/[./\\]/.test(first) && !existsSync(`${io.cwd}/${first}`)) {
    const suggestion = closest(first, names);
    io.stderr(`mia-run: error: unknown command '${first}'${suggestion === undefined ? '' : ` (Did you mean ${suggestion}?)`}\n`);
    io.stderr(`Run "mia-run --help" for the list of commands.\n`);
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT_OK;
      return EXIT_USAGE;
    }
    io.stderr(`mia-run: internal error (MR_INTERNAL): this is a bug, please report it with the version (mia-run ${VERSION}, node ${process.version}).\n`);
    io.stderr(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_USAGE;
  }
  return exitCode() ?? EXIT_OK;
}

/** Entry of `bin/mia-run.js`: `argv` is `process.argv`. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const code = await runCli(argv.slice(2));
  process.exitCode = code;
  return code;
}
