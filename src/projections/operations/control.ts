/**
 * Persisted pause state of projections and single views (fast-data.md §7): one document per paused name in
 * the `fd-control` collection of the default database, so every process of the project (and the CLI) sees
 * the same state and it survives restarts. Running processes poll it (`createPauseWatcher`); processes
 * start running unless a name is paused there.
 */
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { Collection } from '../../ports/document-store.js';
import type { Logger } from '../../ports/logger.js';
import type { PauseState } from '../ingest.js';

export const CONTROL_COLLECTION = 'fd-control';
export type PauseKind = 'projection' | 'view';

const docId = (kind: PauseKind, name: string): string => `pause:${kind}:${name}`;

/** Pauses or resumes `name`; returns whether the state changed. */
export async function setPaused(control: Collection, kind: PauseKind, name: string, paused: boolean, at: Date): Promise<boolean> {
  if (paused) {
    const r = await control.updateOne({ _id: docId(kind, name) }, { $setOnInsert: { kind, name, pausedAt: at } }, { upsert: true });
    return r.upsertedCount > 0;
  }
  return (await control.deleteOne({ _id: docId(kind, name) })).deletedCount > 0;
}

/** Every paused name, as `kind:name`. */
export async function readPaused(control: Collection): Promise<Set<string>> {
  const docs = await control.find({ kind: { $in: ['projection', 'view'] } }).toArray();
  return new Set(docs.map((d) => `${String(d.kind)}:${String(d.name)}`));
}

export interface PauseWatcher extends PauseState {
  /** Reads the state now; `onChange` runs for every name whose state changed. */
  refresh(): Promise<void>;
  start(): Promise<void>;
  stop(): void;
}

/**
 * Polls the pause state every `intervalMs` (default 1000). `onChange(kind, name, paused)` lets the owner
 * pause a subscription or drain a view's journal on resume.
 */
export function createPauseWatcher(options: {
  readonly control: Collection;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly intervalMs?: number;
  readonly onChange?: (kind: PauseKind, name: string, paused: boolean) => void | Promise<void>;
}): PauseWatcher {
  let paused = new Set<string>();
  let timer: TimerHandle | undefined;
  let stopped = false;
  const refresh = async (): Promise<void> => {
    const next = await readPaused(options.control);
    const changed: [string, boolean][] = [...[...next].filter((k) => !paused.has(k)).map((k): [string, boolean] => [k, true]), ...[...paused].filter((k) => !next.has(k)).map((k): [string, boolean] => [k, false])];
    paused = next;
    for (const [k, state] of changed) {
      const [kind, ...rest] = k.split(':');
      await options.onChange?.(kind as PauseKind, rest.join(':'), state);
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = options.clock.setTimeout(() => {
      refresh()
        .catch((err: unknown) => options.logger.warn({ err }, 'fast data: reading the pause state failed'))
        .finally(schedule);
    }, options.intervalMs ?? 1000);
  };
  return {
    isPaused: (kind, name) => paused.has(`${kind}:${name}`),
    refresh,
    async start() {
      await refresh();
      schedule();
    },
    stop() {
      stopped = true;
      if (timer !== undefined) options.clock.clearTimeout(timer);
    },
  };
}
