/**
 * The streaming halves of `mia-run topics`: `produce` reads all of stdin, checks every line, then publishes
 * in order (nothing is published when a line is bad); `consume` prints messages as they arrive and commits
 * them for its group once printed.
 */
import type { EventBus, MessageBatch } from '../../ports/event-bus.js';
import { formatMessage, parseMessages, type LineOptions } from './topics-ndjson.js';

/** Messages per `publish` call: large enough to batch, small enough to keep memory flat. */
const PUBLISH_CHUNK = 1000;

async function readAll(input: AsyncIterable<Buffer | string>): Promise<string> {
  const parts: string[] = [];
  for await (const chunk of input) parts.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
  return parts.join('');
}

/** Publishes the NDJSON of `input` to `topic`; resolves with the number of messages. */
export async function produceTopic(bus: EventBus, topic: string, input: AsyncIterable<Buffer | string>, options: LineOptions): Promise<number> {
  const messages = parseMessages(await readAll(input), options);
  for (let i = 0; i < messages.length; i += PUBLISH_CHUNK) await bus.publish(topic, messages.slice(i, i + PUBLISH_CHUNK));
  return messages.length;
}

export interface ConsumeOptions {
  readonly group: string;
  readonly fromBeginning: boolean;
  readonly envelope: boolean;
  readonly write: (line: string) => void;
  /** Stop after this many messages. */
  readonly max?: number;
  /** Stop after this many ms without a new message. */
  readonly idleMs?: number;
  /** Stops consuming when aborted (the output was closed, e.g. `| head`). */
  readonly signal?: AbortSignal;
}

/** Thrown by the handler to leave a batch uncommitted (past `--max`, or stopping). */
class NotTaken extends Error {}

/**
 * Prints messages of `topic` until `max` messages, `idleMs` of silence, or SIGINT/SIGTERM; resolves with how
 * many were printed. Whole batches are committed: when `--max` cuts a batch, that batch stays uncommitted,
 * so the group sees its messages again next time (at-least-once).
 */
export async function consumeTopic(bus: EventBus, topic: string, options: ConsumeOptions): Promise<number> {
  let printed = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    if (options.idleMs === undefined) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(finish, options.idleMs);
  };
  let done = false;
  let queue: Promise<unknown> = Promise.resolve();

  // Batches of several partitions may arrive at once; printing one at a time keeps the --max count exact.
  const take = async (batch: MessageBatch): Promise<void> => {
    if (done) throw new NotTaken('stopping');
    const room = options.max === undefined ? batch.messages.length : options.max - printed;
    const taken = batch.messages.slice(0, Math.max(0, room));
    for (const m of taken) options.write(formatMessage(m, options.envelope));
    printed += taken.length;
    armIdle();
    if (options.max !== undefined && printed >= options.max) {
      done = true;
      finish();
    }
    if (taken.length < batch.messages.length) throw new NotTaken('past --max');
  };

  const onSignal = (): void => finish();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  options.signal?.addEventListener('abort', onSignal, { once: true });
  if (options.signal?.aborted === true) finish();
  try {
    const subscription = await bus.subscribe({
      group: options.group,
      topics: [topic],
      fromBeginning: options.fromBeginning,
      // A batch that is not taken is not retried or dead-lettered: it stays for the group's next run.
      deadLetter: false,
      maxBatchSize: Math.min(options.max ?? 500, 500),
      handler: (batch) => {
        const run = queue.then(() => take(batch));
        queue = run.catch(() => undefined);
        return run;
      },
    });
    armIdle();
    await finished;
    done = true;
    await subscription.stop();
  } finally {
    clearTimeout(idleTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    options.signal?.removeEventListener('abort', onSignal);
  }
  return printed;
}
