/**
 * `bus.kafka`: the EventBus port on Apache Kafka through kafkajs. One admin client (topics, offsets, health),
 * one idempotent producer (`acks=-1`), one kafkajs consumer per subscription. The descriptor's topics are
 * created at `start()`; nothing connects before that.
 */
import { Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import type { KafkaBusConfig, TopicConfig } from '../../config/types.js';
import { MiaRunError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import {
  EVENT_BUS_FEATURES,
  type EventBus,
  type OutgoingMessage,
  type PartitionLag,
  type PublishedRecord,
  type SeekPosition,
  type SubscribeOptions,
  type Subscription,
  type TopicDescription,
} from '../../ports/event-bus.js';
import type { HealthCheck } from '../../ports/lifecycle.js';
import type { Logger } from '../../ports/logger.js';
import { DEFAULT_TUNING, createKafkaClient, type KafkaTuning } from './client.js';
import { toBusError } from './errors.js';
import { committedOffsets, groupLag, resetGroupOffsets, resolvePosition } from './offsets.js';
import { createPublisher, type Publisher } from './publisher.js';
import { KafkaSubscription } from './subscription.js';
import { createTopicAdmin, type TopicAdmin } from './topics.js';

export interface KafkaEventBusOptions {
  readonly name: string;
  readonly config: KafkaBusConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Overrides of the group-protocol timeouts and retries (tests use short ones). */
  readonly tuning?: Partial<KafkaTuning>;
}

/** Every feature of the port: Kafka is the reference the embedded bus imitates. */
const FEATURES: ReadonlySet<string> = new Set(Object.values(EVENT_BUS_FEATURES));

type State = 'created' | 'starting' | 'running' | 'closed';

export class KafkaEventBus implements EventBus {
  readonly kind = 'bus.kafka' as const;
  readonly name: string;
  readonly features = FEATURES;
  private readonly config: KafkaBusConfig;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly tuning: KafkaTuning;
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly producer: Producer;
  private readonly topics: TopicAdmin;
  private readonly publisher: Publisher;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private state: State = 'created';
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: KafkaEventBusOptions) {
    this.name = options.name;
    this.config = options.config;
    this.clock = options.clock;
    this.logger = options.logger;
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.kafka = createKafkaClient(this.config, this.tuning, this.logger);
    this.admin = this.kafka.admin({ retry: { retries: this.tuning.retries, initialRetryTime: this.tuning.initialRetryTime } });
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: this.tuning.retries, initialRetryTime: this.tuning.initialRetryTime },
    });
    this.topics = createTopicAdmin(this.admin, () => this.config.topics, () => this.clock.now());
    this.publisher = createPublisher({
      producer: this.producer,
      clock: this.clock,
      partitionsOf: (topic) => this.topics.partitionsOf(topic),
      ackTimeout: this.tuning.requestTimeout,
    });
  }

  /** Connects the admin client and the producer, then creates the descriptor's topics. Idempotent. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      this.state = 'starting';
      try {
        await this.admin.connect();
        await this.producer.connect();
        await this.topics.ensureTopics(this.config.topics);
      } catch (err) {
        await this.disconnectClients();
        this.state = 'created';
        this.starting = undefined;
        throw toBusError(err, `connecting to ${this.config.brokers.join(',')}`);
      }
      this.state = 'running';
      this.logger.debug({ brokers: this.config.brokers, topics: Object.keys(this.config.topics) }, 'Kafka bus started');
    })();
    return this.starting;
  }

  async health(): Promise<HealthCheck> {
    if (this.state !== 'running') return { name: this.name, status: 'KO', message: this.state };
    try {
      const cluster = await this.admin.describeCluster();
      return cluster.brokers.length > 0 ? { name: this.name, status: 'OK' } : { name: this.name, status: 'KO', message: 'no broker in the cluster metadata' };
    } catch (err) {
      return { name: this.name, status: 'KO', message: toBusError(err, 'describing the cluster').message };
    }
  }

  /** Stops every subscription (each finishes its batch and commits), then disconnects. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.starting?.catch(() => undefined);
      // Batches in flight may still dead-letter (publish) while their subscriptions stop; new subscriptions
      // are refused from now on.
      await Promise.all([...this.subscriptions].map((s) => s.stop()));
      this.state = 'closed';
      await this.disconnectClients();
    })();
    return this.closing;
  }

  async ensureTopics(topics: Readonly<Record<string, TopicConfig>>): Promise<void> {
    this.assertOpen();
    await this.topics.ensureTopics(topics);
  }

  async describeTopics(): Promise<readonly TopicDescription[]> {
    this.assertOpen();
    return this.topics.describeTopics();
  }

  async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<readonly PublishedRecord[]> {
    this.assertOpen();
    return this.publisher.publish(topic, messages);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    if (this.closing !== undefined) throw new MiaRunError('MR_BUS_CLOSED', `The Kafka bus "${this.name}" is closing`);
    if (options.topics.length === 0) throw new MiaRunError('MR_BUS_UNKNOWN_TOPIC', `Group "${options.group}" subscribes to no topic`, { details: { group: options.group } });
    // Unknown topics fail here, clearly, instead of a consumer waiting for metadata that never comes.
    for (const topic of options.topics) await this.topics.partitionsOf(topic);
    const subscription = await KafkaSubscription.start(
      {
        kafka: this.kafka,
        tuning: this.tuning,
        clock: this.clock,
        logger: this.logger.child({ group: options.group }),
        bus: this,
        resolvePosition: (topic, position) => resolvePosition(this.admin, this.topics, topic, position),
        committed: (group, topics) => committedOffsets(this.admin, group, topics),
        onStopped: (s) => this.subscriptions.delete(s),
      },
      options,
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async lag(group: string, topics?: readonly string[]): Promise<readonly PartitionLag[]> {
    this.assertOpen();
    return groupLag(this.admin, this.topics, group, topics);
  }

  async resetOffsets(group: string, topic: string, position: SeekPosition): Promise<void> {
    this.assertOpen();
    await resetGroupOffsets(this.admin, this.topics, group, topic, position);
  }

  /** Consumer groups on the cluster (beyond the port: used by `mia-run topics lag` when no group is named). */
  async listGroups(): Promise<readonly string[]> {
    this.assertOpen();
    try {
      const { groups } = await this.admin.listGroups();
      return groups.filter((g) => g.protocolType === 'consumer' || g.protocolType === '').map((g) => g.groupId);
    } catch (err) {
      throw toBusError(err, 'listing consumer groups');
    }
  }

  private assertOpen(): void {
    if (this.state === 'closed') throw new MiaRunError('MR_BUS_CLOSED', `The Kafka bus "${this.name}" is closed`);
    if (this.state === 'created') {
      throw new MiaRunError('MR_RUNTIME_NOT_READY', `The Kafka bus "${this.name}" is not started`, { hint: 'call start() first' });
    }
  }

  private async disconnectClients(): Promise<void> {
    const results = await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
    for (const r of results) if (r.status === 'rejected') this.logger.warn({ err: r.reason }, 'Kafka client did not disconnect cleanly');
  }
}
