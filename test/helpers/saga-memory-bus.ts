/**
 * A small in-memory EventBus for saga unit tests: topics are arrays, `publish` records messages and hands
 * them to subscribers (one batch per message, awaited in order), and a test can make `publish` fail.
 */
import type { ConsumedMessage, EventBus, OutgoingMessage, PublishedRecord, SubscribeOptions, Subscription } from '../../src/ports/event-bus.js';
import type { HealthCheck } from '../../src/ports/lifecycle.js';
import { MiaRunError } from '../../src/errors.js';

export interface RecordedMessage {
  readonly key: string | null;
  readonly value: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

function consumed(topic: string, offset: number, m: OutgoingMessage): ConsumedMessage {
  const raw = m.value === null ? null : Buffer.isBuffer(m.value) ? m.value : Buffer.from(typeof m.value === 'string' ? m.value : JSON.stringify(m.value));
  return {
    topic,
    partition: 0,
    offset,
    key: m.key ?? null,
    value: raw,
    headers: m.headers ?? {},
    timestamp: Date.now(),
    json: <T>() => (raw === null ? null : JSON.parse(raw.toString('utf8'))) as T,
    text: () => (raw === null ? null : raw.toString('utf8')),
  };
}

export class MemoryEventBus {
  readonly kind = 'bus.embedded';
  readonly name = 'bus';
  readonly features = new Set<string>();
  readonly topics = new Map<string, RecordedMessage[]>();
  /** When set, `publish` throws it. */
  failWith: Error | undefined;
  private readonly subscribers: SubscribeOptions[] = [];

  messages(topic: string): RecordedMessage[] {
    return this.topics.get(topic) ?? [];
  }

  async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<readonly PublishedRecord[]> {
    if (this.failWith) throw this.failWith;
    const log = this.topics.get(topic) ?? [];
    this.topics.set(topic, log);
    const records: PublishedRecord[] = [];
    for (const m of messages) {
      const offset = log.length;
      const value = typeof m.value === 'string' ? JSON.parse(m.value) : m.value;
      log.push({ key: m.key ?? null, value, headers: m.headers ?? {} });
      records.push({ topic, partition: 0, offset });
      for (const s of this.subscribers.filter((x) => x.topics.includes(topic))) {
        await s.handler({ topic, partition: 0, messages: [consumed(topic, offset, m)] }, { signal: new AbortController().signal, attempt: 1 });
      }
    }
    return records;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.subscribers.push(options);
    return {
      group: options.group,
      assignment: () => options.topics.map((topic) => ({ topic, partition: 0 })),
      pause: () => undefined,
      resume: () => undefined,
      paused: false,
      seek: async () => undefined,
      stop: async () => {
        const i = this.subscribers.indexOf(options);
        if (i >= 0) this.subscribers.splice(i, 1);
      },
    };
  }

  async ensureTopics(): Promise<void> {}
  async describeTopics(): Promise<never[]> {
    return [];
  }
  async lag(): Promise<never[]> {
    return [];
  }
  async resetOffsets(): Promise<void> {}
  async start(): Promise<void> {}
  async close(): Promise<void> {}
  async health(): Promise<HealthCheck> {
    return { name: 'bus', status: 'OK' };
  }
}

export function memoryBus(): EventBus & MemoryEventBus {
  return new MemoryEventBus() as unknown as EventBus & MemoryEventBus;
}

export const busDown = (): Error => new MiaRunError('MR_BUS_UNAVAILABLE', 'bus down for the test');
