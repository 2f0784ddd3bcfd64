import { spawn, type ChildProcess } from 'node:child_process';

/** A child process that printed its `listening on <url>` line. */
export interface ListeningProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<unknown>;
}

const root = new URL('../..', import.meta.url).pathname;

/**
 * Starts `node <args>` in the repository root and resolves once it prints `listening on <url>` (stdout or
 * stderr); rejects with everything it printed when it exits first.
 *
 * @example
 * const p = await spawnListening([cli, 'run', project, '--port', '0'], 'mia-run');
 */
export function spawnListening(args: readonly string[], label: string): Promise<ListeningProcess> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve({ child, url: m[1], exited });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${label} exited (${code}) before listening:\n${out}`)));
  });
}
