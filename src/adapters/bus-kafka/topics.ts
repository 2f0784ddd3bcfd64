/**
 * Topic administration through one shared kafkajs admin client: creating the descriptor's topics
 * (partitions, `retention.ms`, `retention.bytes`), describing topics with their offsets, and a cache of
 * partition counts for the publisher (re-read every 5 minutes, so added partitions are picked up).
 */
import type { Admin, ITopicConfig } from 'kafkajs';
import type { TopicConfig } from '../../config/types.js';
import { MiaRunError } from '../../errors.js';
import type { TopicDescription } from '../../ports/event-bus.js';
import { toBusError } from './errors.js';

/** Topics Kafka keeps for itself (`__consumer_offsets`, `__transaction_state`, ...). */
export function isInternalTopic(name: string): boolean {
  return name.startsWith('__');
}

/** The kafkajs creation request of one declared topic (exported for tests). */
export function topicCreation(name: string, config: TopicConfig): ITopicConfig {
  // The descriptor's "no retention" means keep forever, whereas a broker's default is usually 7 days.
  const configEntries = [{ name: 'retention.ms', value: String(config.retentionMs ?? -1) }];
  if (config.retentionBytes !== undefined) configEntries.push({ name: 'retention.bytes', value: String(config.retentionBytes) });
  return { topic: name, numPartitions: config.partitions, replicationFactor: -1, configEntries };
}

export interface TopicAdmin {
  ensureTopics(topics: Readonly<Record<string, TopicConfig>>): Promise<void>;
  describeTopics(): Promise<readonly TopicDescription[]>;
  /** Partition count of `topic` (cached); throws `MR_BUS_UNKNOWN_TOPIC`. */
  partitionsOf(topic: string): Promise<number>;
  /** `[start, end)` offsets of every partition of `topic`, by partition number. */
  watermarks(topic: string): Promise<Map<number, { start: number; end: number }>>;
}

/** Partition counts are re-read after this long, like Kafka clients' `metadata.max.age.ms`. */
const PARTITIONS_MAX_AGE_MS = 300_000;

export function createTopicAdmin(admin: Admin, declared: () => Readonly<Record<string, TopicConfig>>, now: () => number): TopicAdmin {
  const partitionCounts = new Map<string, { count: number; at: number }>();
  const known = new Map<string, TopicConfig>();

  const lookups = new Map<string, Promise<number>>();

  /**
   * Concurrent callers share one lookup, so their continuations run in call order: the publisher queues
   * messages after this resolves, and publishes issued one after the other must stay in that order.
   */
  function partitionsOf(topic: string): Promise<number> {
    const cached = partitionCounts.get(topic);
    if (cached !== undefined && now() - cached.at < PARTITIONS_MAX_AGE_MS) return Promise.resolve(cached.count);
    let lookup = lookups.get(topic);
    if (lookup === undefined) {
      lookup = lookupPartitions(topic).finally(() => lookups.delete(topic));
      lookups.set(topic, lookup);
    }
    return lookup;
  }

  async function lookupPartitions(topic: string): Promise<number> {
    let count = 0;
    try {
      // Asking for an unknown topic by name makes kafkajs retry for a long while; the topic list answers at once.
      if ((await admin.listTopics()).includes(topic)) {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        count = topics[0]?.partitions.length ?? 0;
      }
    } catch (err) {
      throw toBusError(err, `reading metadata of "${topic}"`, { topic });
    }
    if (count === 0) throw toBusError({ type: 'UNKNOWN_TOPIC_OR_PARTITION', message: 'not found' }, `reading metadata of "${topic}"`, { topic });
    partitionCounts.set(topic, { count, at: now() });
    return count;
  }

  async function watermarks(topic: string): Promise<Map<number, { start: number; end: number }>> {
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, { start: Number(o.low), end: Number(o.high) }]));
    } catch (err) {
      throw toBusError(err, `reading offsets of "${topic}"`, { topic });
    }
  }

  async function retentionOf(names: readonly string[]): Promise<Map<string, Pick<TopicConfig, 'retentionMs' | 'retentionBytes'>>> {
    const out = new Map<string, Pick<TopicConfig, 'retentionMs' | 'retentionBytes'>>();
    if (names.length === 0) return out;
    const response = await admin.describeConfigs({
      includeSynonyms: false,
      resources: names.map((name) => ({ type: 2 /* TOPIC */, name, configNames: ['retention.ms', 'retention.bytes'] })),
    });
    for (const resource of response.resources) {
      const value = (key: string): number | undefined => {
        const raw = resource.configEntries.find((e) => e.configName === key)?.configValue;
        const n = raw === undefined || raw === null ? NaN : Number(raw);
        return Number.isFinite(n) && n >= 0 ? n : undefined;
      };
      const retentionMs = value('retention.ms');
      const retentionBytes = value('retention.bytes');
      out.set(resource.resourceName, {
        ...(retentionMs === undefined ? {} : { retentionMs }),
        ...(retentionBytes === undefined ? {} : { retentionBytes }),
      });
    }
    return out;
  }

  return {
    partitionsOf,
    watermarks,
    async ensureTopics(topics) {
      const entries = Object.entries(topics);
      for (const [name, config] of entries) known.set(name, config);
      if (entries.length === 0) return;
      let existing: Set<string>;
      try {
        existing = new Set(await admin.listTopics());
        const missing = entries.filter(([name]) => !existing.has(name));
        if (missing.length > 0) {
          await admin.createTopics({ waitForLeaders: true, topics: missing.map(([name, config]) => topicCreation(name, config)) });
        }
      } catch (err) {
        // Another process may have created the same topic a moment earlier: that is the outcome we want.
        if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw toBusError(err, `creating topics ${entries.map(([n]) => n).join(', ')}`);
      }
      // Metadata may lag creation by a moment; kafkajs' producer retries UNKNOWN_TOPIC_OR_PARTITION meanwhile.
      for (const [name] of entries) partitionCounts.delete(name);
    },
    async describeTopics() {
      try {
        const names = (await admin.listTopics()).filter((n) => !isInternalTopic(n)).sort();
        if (names.length === 0) return [];
        const { topics } = await admin.fetchTopicMetadata({ topics: names });
        const retention = await retentionOf(names);
        const descriptor = declared();
        const out: TopicDescription[] = [];
        // Offsets are one request per topic: ask for several at a time on clusters with many topics.
        const marksByTopic = new Map<string, Map<number, { start: number; end: number }>>();
        for (let i = 0; i < names.length; i += 16) {
          const slice = names.slice(i, i + 16);
          const fetched = await Promise.all(slice.map((name) => watermarks(name)));
          slice.forEach((name, j) => marksByTopic.set(name, fetched[j]!));
        }
        for (const name of names) {
          const meta = topics.find((t) => t.name === name);
          const marks = marksByTopic.get(name)!;
          const partitions = [...marks.entries()].sort(([a], [b]) => a - b).map(([partition, w]) => ({ partition, ...w }));
          const declaredConfig = descriptor[name] ?? known.get(name);
          const config: TopicConfig = {
            ...(declaredConfig?.key === undefined ? {} : { key: declaredConfig.key }),
            ...retention.get(name),
            partitions: meta?.partitions.length ?? partitions.length,
          };
          out.push({ name, partitions, config });
        }
        return out;
      } catch (err) {
        throw err instanceof MiaRunError ? err : toBusError(err, 'describing topics');
      }
    },
  };
}
