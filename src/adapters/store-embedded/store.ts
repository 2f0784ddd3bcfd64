/**
 * `store.embedded`: one lmdb environment per `databases:` entry (a directory), documents as BSON, MongoDB
 * query and update semantics from mingo, real indexes, TTL expiry, text and geo queries, and atomic
 * multi-collection transactions. Writes are acknowledged after a durable lmdb commit; concurrent writes share
 * commits (group commit). Several processes may open the same directory: lmdb serialises their writes and
 * each operation re-reads the shared catalog when another process changed it.
 */
import { mkdirSync } from 'node:fs';
import { open, type RootDatabase } from 'lmdb';
import { MiaRunError, isMiaRunError } from '../../errors.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { Collection, DocumentStore, TransactionScope } from '../../ports/document-store.js';
import type { HealthCheck } from '../../ports/lifecycle.js';
import type { Logger } from '../../ports/logger.js';
import { storeFeatures, type StoreFeature } from '../../ports/store-features.js';
import { createMetricEmitter } from '../../ports/telemetry.js';
import { Catalog } from './catalog.js';
import { EmbeddedCollection, type Runner } from './collection.js';
import type { EngineContext } from './engine.js';
import { LmdbKv, OverlayKv, type Kv } from './kv.js';
import { docRange } from './planner.js';

export interface EmbeddedStoreOptions {
  /** Directory of the lmdb environment. */
  readonly path: string;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** How often expired (TTL) documents are deleted; default 60 s like MongoDB's TTL monitor. */
  readonly ttlMonitorMs?: number;
  /** How often `withTransaction` re-runs its callback after a write conflict; default 10. */
  readonly transactionAttempts?: number;
}

const CONFLICT = Symbol('conflict');
const metrics = createMetricEmitter('store');

export class EmbeddedDocumentStore implements DocumentStore {
  readonly kind = 'store.embedded';
  readonly features: ReadonlySet<StoreFeature> = storeFeatures('store.embedded');
  readonly #catalog = new Catalog();
  readonly #ctx: EngineContext;
  #db: RootDatabase<Buffer, Buffer> | undefined;
  #kv: LmdbKv | undefined;
  #state: 'new' | 'open' | 'closed' = 'new';
  #sweepTimer: TimerHandle | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly options: EmbeddedStoreOptions,
  ) {
    this.#ctx = { catalog: this.#catalog, clock: options.clock, database: name };
  }

  async start(): Promise<void> {
    if (this.#state === 'open') return;
    if (this.#state === 'closed') throw new MiaRunError('MR_STORE_CLOSED', `Store "${this.name}" was closed`);
    try {
      mkdirSync(this.options.path, { recursive: true });
      // overlappingSync off: a commit returns only once fsync'ed, so an acknowledged write is durable.
      this.#db = open<Buffer, Buffer>({ path: this.options.path, keyEncoding: 'binary', encoding: 'binary', maxReaders: 1022, overlappingSync: false });
    } catch (cause) {
      throw new MiaRunError('MR_STORE_UNAVAILABLE', `Cannot open embedded store "${this.name}" at ${this.options.path}: ${(cause as Error).message}`, {
        cause,
        hint: 'check that the data directory exists, is writable and is not on a network file system',
      });
    }
    this.#kv = new LmdbKv(this.#db);
    this.#state = 'open';
    this.#scheduleSweep();
  }

  async health(): Promise<HealthCheck> {
    if (this.#state !== 'open') return { name: this.name, status: 'KO', message: this.#state === 'new' ? 'not started' : 'closed' };
    try {
      this.#kv!.get(Buffer.from([0]));
      return { name: this.name, status: 'OK' };
    } catch (error) {
      return { name: this.name, status: 'KO', message: (error as Error).message };
    }
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const db = this.#db;
    this.#state = 'closed';
    if (this.#sweepTimer !== undefined) this.options.clock.clearTimeout(this.#sweepTimer);
    await this.#sweeping;
    if (db !== undefined) {
      await db.flushed;
      await db.close();
    }
  }

  collection(name: string): Collection {
    return new EmbeddedCollection(this.#ctx, this.#runner, name);
  }

  async listCollections(): Promise<string[]> {
    return this.#runner.read((kv) => Object.keys(this.#catalog.load(kv).collections).sort());
  }

  async withTransaction<T>(fn: (tx: TransactionScope) => Promise<T>): Promise<T> {
    const attempts = this.options.transactionAttempts ?? 10;
    for (let attempt = 1; ; attempt++) {
      const overlay = new OverlayKv(this.#open());
      const runner: Runner = {
        read: (f) => f(overlay),
        write: async (f) => f(overlay),
        count: (id) => {
          const range = docRange(id);
          let n = 0;
          for (const _ of overlay.range(range.start, range.end)) n++;
          return n;
        },
      };
      const result = await fn({ collection: (name) => new EmbeddedCollection(this.#ctx, runner, name) });
      if (overlay.size === 0) return result;
      const committed = await this.#runner.write((kv) => {
        if (!overlay.validate(kv)) return CONFLICT;
        overlay.apply(kv);
        return true;
      }, true);
      if (committed !== CONFLICT) return result;
      metrics.count('transaction_conflicts', 'Embedded store transactions re-run after a write conflict', { database: this.name });
      if (attempt >= attempts) {
        throw new MiaRunError('MR_STORE_WRITE_CONFLICT', `Transaction on "${this.name}" kept conflicting with concurrent writes (${attempts} attempts)`);
      }
    }
  }

  /** Deletes expired documents of every collection now (the sweeper runs this every `ttlMonitorMs`). */
  async sweepExpired(): Promise<number> {
    let total = 0;
    for (const name of await this.listCollections()) total += await (this.collection(name) as EmbeddedCollection).sweepExpired();
    return total;
  }

  #scheduleSweep(): void {
    if (this.#state !== 'open') return;
    this.#sweepTimer = this.options.clock.setTimeout(() => {
      this.#sweeping = this.sweepExpired()
        .then(
          (n) => {
            metrics.count('expired_documents', 'Documents deleted by TTL indexes', { database: this.name }, n);
            if (n > 0) this.options.logger?.debug({ store: this.name, deleted: n }, 'expired documents deleted');
          },
          (error: unknown) => this.options.logger?.warn({ store: this.name, err: error }, 'TTL sweep failed'),
        )
        .then(() => this.#scheduleSweep());
    }, this.options.ttlMonitorMs ?? 60_000);
  }

  #open(): Kv {
    if (this.#state === 'open') return this.#kv!;
    if (this.#state === 'closed') throw new MiaRunError('MR_STORE_CLOSED', `Store "${this.name}" is closed`);
    throw new MiaRunError('MR_STORE_UNAVAILABLE', `Store "${this.name}" is not started`);
  }

  readonly #runner: Runner = {
    read: (fn) => fn(this.#open()),
    write: async (fn, atomic = false) => {
      const kv = this.#open();
      const started = performance.now();
      try {
        const result = await (atomic ? this.#db!.childTransaction(() => fn(kv)) : this.#db!.transaction(() => fn(kv)));
        metrics.observe('write_seconds', 'Embedded store writes: queueing plus durable commit', (performance.now() - started) / 1000, { database: this.name });
        return result;
      } catch (error) {
        if (isMiaRunError(error)) throw error;
        throw new MiaRunError('MR_STORE_UNAVAILABLE', `Write to embedded store "${this.name}" failed: ${(error as Error).message}`, { cause: error });
      }
    },
    count: (collectionId) => {
      const range = docRange(collectionId);
      return this.#db!.getKeysCount({ start: range.start, end: range.end });
    },
  };
}
