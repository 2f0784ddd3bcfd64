/**
 * Per-key parking of ingestion messages (fast-data.md §6): a message whose failure is retriable (and not a
 * backend outage) parks its key instead of failing the batch: the message, and every later message of that
 * key, wait in the parking collection (`fd-parked`, shared by every process) while the other keys flow and
 * the offsets are committed (the parked messages are durable). A worker on the Clock retries a parked key
 * when `notBefore` has passed, off the partition's path; the ingestion handler decides what a retry does
 * (apply, park again with one more attempt, or dead-letter once the attempts are used up).
 * Entry: `{_id: <topic>\0<key>, topic, partition, key, attempts, notBefore, lastError, messages, runUntil?}`.
 */
import { createConsumedMessage } from '../bus/message.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Collection, Document } from '../ports/document-store.js';
import type { ConsumedMessage } from '../ports/event-bus.js';
import type { Logger } from '../ports/logger.js';

/** Default collection of parked keys. */
export const PARKED_COLLECTION = 'fd-parked';

export interface ParkedKey {
  readonly id: string;
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  /** Tries already made for the first message. */
  readonly attempts: number;
  readonly messages: readonly ConsumedMessage[];
}

const parkId = (topic: string, key: string): string => `${topic}\u0000${key}`;

const encode = (m: ConsumedMessage): Document => ({ topic: m.topic, partition: m.partition, offset: m.offset, key: m.key, value: m.value === null ? null : m.value.toString('base64'), headers: { ...m.headers }, timestamp: m.timestamp });
const decode = (d: Document): ConsumedMessage =>
  createConsumedMessage({ topic: String(d.topic), partition: Number(d.partition), offset: Number(d.offset), key: d.key === null ? null : String(d.key), value: d.value === null ? null : Buffer.from(String(d.value), 'base64'), headers: (d.headers ?? {}) as Record<string, string>, timestamp: Number(d.timestamp) });

export interface Parking {
  /** Parked keys of `topic` among `keys`. */
  load(topic: string, keys: readonly string[]): Promise<Set<string>>;
  /** Parks a key on its failing message (`attempts` tries made), retried `delayMs` from now. */
  park(message: ConsumedMessage, attempts: number, lastError: string): Promise<void>;
  /** A later message of a parked key waits behind it. */
  append(message: ConsumedMessage): Promise<void>;
  /** Parked keys of one partition (back-pressure). */
  count(topic: string, partition: number): Promise<number>;
  /** Due entries, each taken for `leaseMs` so a single worker retries it. */
  takeDue(limit: number): Promise<ParkedKey[]>;
  /**
   * After a retry: the first `handled` messages of the entry were dealt with; `again` (the failing message
   * and the ones after it, when the key parks again) goes back in front of what arrived meanwhile.
   */
  settle(entry: ParkedKey, handled: number, again?: { readonly attempts: number; readonly lastError: string }): Promise<void>;
}

export interface ParkingOptions {
  readonly now: () => number;
  readonly delayMs: number;
  /** How long a taken entry is reserved for its retry; default 60 s. */
  readonly leaseMs?: number;
}

/** Parking over one collection. */
export function createParking(collection: Collection, options: ParkingOptions): Parking {
  const leaseMs = options.leaseMs ?? 60_000;
  return {
    async load(topic, keys) {
      if (keys.length === 0) return new Set();
      const docs = await collection.find({ _id: { $in: [...new Set(keys)].map((k) => parkId(topic, k)) } }).toArray();
      return new Set(docs.map((d) => String(d.key)));
    },
    async park(message, attempts, lastError) {
      const key = message.key ?? '';
      await collection.updateOne(
        { _id: parkId(message.topic, key) },
        { $set: { topic: message.topic, partition: message.partition, key, attempts, notBefore: options.now() + options.delayMs, lastError }, $push: { messages: encode(message) } },
        { upsert: true },
      );
    },
    async append(message) {
      await collection.updateOne({ _id: parkId(message.topic, message.key ?? '') }, { $push: { messages: encode(message) } });
    },
    count: (topic, partition) => collection.count({ topic, partition }),
    async takeDue(limit) {
      const now = options.now();
      const due = await collection.find({ notBefore: { $lte: now } }, { sort: { notBefore: 1 }, limit }).toArray();
      const taken: ParkedKey[] = [];
      for (const d of due) {
        // Reserve it: pushing notBefore past the lease keeps other workers away while this one retries.
        const got = await collection.findOneAndUpdate({ _id: d._id, notBefore: d.notBefore }, { $set: { notBefore: now + leaseMs } }, { returnDocument: 'after' });
        if (got === null) continue;
        taken.push({ id: String(got._id), topic: String(got.topic), partition: Number(got.partition), key: String(got.key), attempts: Number(got.attempts), messages: ((got.messages ?? []) as Document[]).map(decode) });
      }
      return taken;
    },
    async settle(entry, handled, again) {
      const current = await collection.findOne({ _id: entry.id });
      if (current === null) return;
      const arrived = ((current.messages ?? []) as Document[]).slice(entry.messages.length);
      const remaining = again === undefined ? [] : entry.messages.slice(handled).map(encode);
      const messages = [...remaining, ...arrived];
      if (messages.length === 0) {
        // Deleted only when nothing arrived since it was read (an append in between keeps the entry).
        const { deletedCount } = await collection.deleteOne({ _id: entry.id, [`messages.${entry.messages.length}`]: { $exists: false } });
        if (deletedCount === 1) return;
        return this.settle(entry, handled, again);
      }
      // Messages that arrived during the retry run next, at once; a failure waits the delay.
      const notBefore = again === undefined ? options.now() : options.now() + options.delayMs;
      await collection.updateOne({ _id: entry.id }, { $set: { messages, attempts: again?.attempts ?? 0, notBefore, ...(again === undefined ? {} : { lastError: again.lastError }) } });
    },
  };
}

/** Polls `run` every `pollMs` on the Clock until stopped. */
export function startParkingWorker(clock: Clock, pollMs: number, run: () => Promise<unknown>, logger: Logger): { stop(): Promise<void> } {
  let timer: TimerHandle | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const schedule = (): void => {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      running = run()
        .catch((error: unknown) => logger.warn({ err: error }, 'parked ingestion retries failed; trying again at the next poll'))
        .finally(schedule);
    }, pollMs);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      await running;
    },
  };
}
