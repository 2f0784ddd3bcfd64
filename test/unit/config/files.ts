// Writes descriptor files into a fresh temporary directory for a test, and removes it afterwards.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadProject, type LoadOptions } from '../../../src/config/load-project.js';
import type { LoadResult } from '../../../src/config/types.js';
import { formatDiagnostic } from '../../../src/cli/format/text.js';

export async function withFiles<T>(files: Readonly<Record<string, string>>, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'mia-run-config-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Loads `project.yaml` from `files` with an empty environment unless given; cwd is the temp dir. */
export function load(files: Readonly<Record<string, string>>, options: LoadOptions = {}): Promise<LoadResult> {
  return withFiles(files, (dir) => loadProject('project.yaml', { env: {}, ...options, cwd: dir }));
}

/** The diagnostics as the CLI prints them. */
export function lines(result: LoadResult): string[] {
  return result.diagnostics.map(formatDiagnostic);
}

export const HEADER = 'version: 1\nname: shop\n';
