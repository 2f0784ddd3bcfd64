/**
 * `store.mongodb`: one `databases:` entry on a MongoDB deployment through the official driver (one client per
 * entry, so each may point at its own deployment). `start()` connects within `connectTimeout` or fails with
 * `MR_RUNTIME_START` naming the database and the URL (credentials redacted), then reads `hello` and
 * `buildInfo` to narrow the declared features to what this server really offers (transactions and change
 * streams need a replica set or mongos; FerretDB offers none of the optional features).
 */
import { type Db, MongoClient, type MongoClientOptions, MongoError } from 'mongodb';
import type { MongoDatabaseConfig } from '../../config/types.js';
import { MiaRunError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import type { Collection, DocumentStore, StoreFeature, TransactionScope } from '../../ports/document-store.js';
import type { HealthCheck } from '../../ports/lifecycle.js';
import type { Logger } from '../../ports/logger.js';
import { storeFeatures } from '../../ports/store-features.js';
import { listIndexes } from './indexes.js';
import { mapMongoError } from './map-error.js';
import { MongoCollection, type StoreHandle } from './mongo-collection.js';
import { databaseFromUrl, redactMongoUrl } from './redact-url.js';
import { type ServerInfo, describeServer, featuresOf } from './server-info.js';
import { type TtlIndex, ttlIndexesOf } from './ttl-filter.js';

export interface MongoDocumentStoreOptions {
  readonly name: string;
  readonly config: MongoDatabaseConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Extra driver options (tests); `serverSelectionTimeoutMS` defaults to `config.connectTimeout`. */
  readonly clientOptions?: MongoClientOptions;
}

type State = 'new' | 'starting' | 'started' | 'closed';

export class MongoDocumentStore implements DocumentStore {
  readonly kind = 'store.mongodb';
  readonly name: string;
  /** Before `start()`: what MongoDB offers (the static table); after: what the connected server offers. */
  readonly features: Set<StoreFeature>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly config: MongoDatabaseConfig;
  private readonly clientOptions: MongoClientOptions;
  private readonly databaseName: string;
  private readonly safeUrl: string;
  private client: MongoClient | undefined;
  private database: Db | undefined;
  private state: State = 'new';
  private server: ServerInfo | undefined;
  private readonly handle: StoreHandle;
  private readonly ttlCache = new Map<string, Promise<readonly TtlIndex[]>>();

  constructor(options: MongoDocumentStoreOptions) {
    this.name = options.name;
    this.config = options.config;
    this.clock = options.clock;
    this.logger = options.logger.child({ database: options.name });
    this.clientOptions = options.clientOptions ?? {};
    this.features = new Set(storeFeatures('store.mongodb'));
    this.databaseName = options.config.database ?? databaseFromUrl(options.config.url) ?? options.name;
    this.safeUrl = redactMongoUrl(options.config.url);
    const label = `database "${this.name}"`;
    this.handle = {
      db: () => this.db(),
      clock: this.clock,
      features: this.features,
      label,
      isFerretDb: () => this.server?.ferretdbVersion !== undefined,
      ttlIndexes: (collection) => this.ttlIndexes(collection),
      forgetIndexes: (collection) => this.ttlCache.delete(collection),
    };
  }

  /** The database on the server (from the config, the URL's path, or the entry's name). */
  get serverDatabase(): string {
    return this.databaseName;
  }

  /** What `hello`/`buildInfo` said at start (undefined before). */
  get serverInfo(): ServerInfo | undefined {
    return this.server;
  }

  private db(): Db {
    if (this.state === 'closed') throw new MiaRunError('MR_STORE_CLOSED', `database "${this.name}" is closed`);
    if (this.database === undefined) throw new MiaRunError('MR_STORE_UNAVAILABLE', `database "${this.name}" is not started`);
    return this.database;
  }

  /** TTL indexes per collection, read once (listIndexes runs outside any transaction) and kept until they change. */
  private ttlIndexes(collection: string): Promise<readonly TtlIndex[]> {
    if (!this.features.has('ttl')) return Promise.resolve([]);
    let cached = this.ttlCache.get(collection);
    if (cached === undefined) {
      cached = listIndexes(this.db().collection(collection)).then(ttlIndexesOf);
      this.ttlCache.set(collection, cached);
      cached.catch(() => this.ttlCache.delete(collection));
    }
    return cached;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'starting';
    const timeout = this.config.connectTimeout;
    const client = new MongoClient(this.config.url, {
      appName: 'mia-run',
      serverSelectionTimeoutMS: timeout,
      connectTimeoutMS: timeout,
      ...this.clientOptions,
    });
    try {
      await client.connect();
      const admin = client.db('admin');
      const [hello, buildInfo] = await Promise.all([admin.command({ hello: 1 }), admin.command({ buildInfo: 1 })]);
      this.server = describeServer(hello, buildInfo);
    } catch (error) {
      await client.close().catch(() => undefined);
      this.state = 'new';
      throw new MiaRunError('MR_RUNTIME_START', `Database "${this.name}": cannot connect to MongoDB at ${this.safeUrl} within ${timeout} ms`, {
        cause: error,
        details: { database: this.name, url: this.safeUrl },
        hint: `check that the server is running and reachable (${error instanceof Error ? error.message : String(error)}); raise databases.${this.name}.connectTimeout for slow networks`,
      });
    }
    this.client = client;
    this.database = client.db(this.databaseName);
    const offered = featuresOf(this.server);
    for (const feature of [...this.features]) if (!offered.has(feature)) this.features.delete(feature);
    this.state = 'started';
    this.logger.info({ url: this.safeUrl, server: this.server.description, features: [...this.features] }, 'MongoDB store connected');
  }

  async health(): Promise<HealthCheck> {
    if (this.state !== 'started' || this.client === undefined) return { name: this.name, status: 'KO', message: this.state === 'closed' ? 'closed' : 'not started' };
    try {
      await this.client.db('admin').command({ ping: 1 }, { timeoutMS: Math.min(this.config.connectTimeout, 5000) });
      return { name: this.name, status: 'OK', message: `${this.server?.description ?? 'MongoDB'} at ${this.safeUrl}` };
    } catch (error) {
      return { name: this.name, status: 'KO', message: `MongoDB at ${this.safeUrl} does not answer: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    const client = this.client;
    this.client = undefined;
    this.database = undefined;
    await client?.close().catch((error: unknown) => this.logger.warn({ err: error }, 'closing the MongoDB client failed'));
  }

  collection(name: string): Collection {
    return new MongoCollection(name, this.handle);
  }

  async listCollections(): Promise<string[]> {
    const db = this.db();
    try {
      const collections = await db.listCollections({}, { nameOnly: true }).toArray();
      return collections.map((c) => c.name).filter((n) => !n.startsWith('system.')).sort();
    } catch (error) {
      throw mapMongoError(error, 'read', `database "${this.name}"`);
    }
  }

  async withTransaction<T>(fn: (tx: TransactionScope) => Promise<T>): Promise<T> {
    this.db();
    if (!this.features.has('transactions') || this.client === undefined) {
      throw new MiaRunError('MR_STORE_UNSUPPORTED', `database "${this.name}": transactions need a MongoDB replica set or sharded cluster; ${this.server?.description ?? 'this server'} has none`, {
        hint: 'run MongoDB as a replica set (a single-node replica set is enough)',
      });
    }
    const session = this.client.startSession();
    try {
      const scope: TransactionScope = { collection: (name) => new MongoCollection(name, this.handle, session) };
      // The driver's helper retries the callback on TransientTransactionError and the commit on
      // UnknownTransactionCommitResult, as the port allows.
      return await session.withTransaction(() => fn(scope));
    } catch (error) {
      // The callback's own errors are rethrown as they are; only the driver's are mapped.
      if (!(error instanceof MongoError)) throw error;
      throw mapMongoError(error, 'update', `database "${this.name}" transaction`);
    } finally {
      await session.endSession().catch(() => undefined);
    }
  }
}
