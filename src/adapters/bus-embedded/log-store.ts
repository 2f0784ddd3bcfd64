/**
 * The on-disk layout of the embedded bus: one lmdb environment per bus directory, shared by every bus
 * instance of this process on that directory (lmdb allows one environment handle per process and path) and
 * by other processes opening the same directory.
 *
 * Databases (keys are ordered-binary arrays, so a partition's messages sort by offset):
 * - `topics`   name -> TopicRecord
 * - `meta`     [topic, partition] -> PartitionMeta (first kept offset, next offset, bytes kept)
 * - `log`      [topic, partition, offset] -> LogRecord (binary, `record-codec.ts`)
 * - `offsets`  [group, topic, partition] -> committed offset (next to read)
 * - `members`  [group, memberId] -> MemberRecord (lease renewed by heartbeats)
 * - `claims`   [group, topic, partition] -> memberId owning the partition
 */
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';

export interface TopicRecord {
  readonly partitions: number;
  readonly key?: string;
  readonly retentionMs?: number;
  readonly retentionBytes?: number;
}

export interface PartitionMeta {
  /** First kept offset. */
  start: number;
  /** Offset of the next appended message. */
  next: number;
  /** Bytes of kept messages (key + value + headers). */
  bytes: number;
}

export interface LogRecord {
  /** Timestamp, epoch ms. */
  readonly t: number;
  readonly k: string | null;
  readonly v: Buffer | null;
  readonly h: Readonly<Record<string, string>> | null;
  /** Size counted for retention. */
  readonly s: number;
}

export interface MemberRecord {
  readonly topics: readonly string[];
  readonly leaseUntil: number;
}

export type PartitionKey = [string, number];
export type LogKey = [string, number, number];
export type GroupPartitionKey = [string, string, number];

/** One open bus directory. */
export interface LogStore {
  readonly path: string;
  readonly root: RootDatabase;
  readonly topics: Database<TopicRecord, string>;
  readonly meta: Database<PartitionMeta, PartitionKey>;
  /** Records encoded by `record-codec.ts`. */
  readonly log: Database<Buffer, LogKey>;
  readonly offsets: Database<number, GroupPartitionKey>;
  readonly members: Database<MemberRecord, [string, string]>;
  readonly claims: Database<string, GroupPartitionKey>;
  /** In-process notifications: `append:<topic>` after a publish commits, `group:<group>` on membership changes. */
  readonly events: EventEmitter;
}

interface Entry {
  store: LogStore;
  refs: number;
}

const openStores = new Map<string, Entry>();

/** Opens (or shares) the store of `dir`; pair with `releaseLogStore`. */
export function acquireLogStore(dir: string): LogStore {
  const path = resolve(dir);
  const existing = openStores.get(path);
  if (existing !== undefined) {
    existing.refs += 1;
    return existing.store;
  }
  mkdirSync(path, { recursive: true });
  // separateFlushed: a write promise resolves once committed (visible to readers, safe from a process crash)
  // and `root.flushed` once synced to disk; publish waits for both, offset commits only for the first.
  const root = open({ path: join(path, 'bus.mdb'), maxDbs: 12, noSubdir: true, separateFlushed: true });
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const store: LogStore = {
    path,
    root,
    topics: root.openDB<TopicRecord, string>('topics', {}),
    meta: root.openDB<PartitionMeta, PartitionKey>('meta', { keyEncoding: 'ordered-binary' }),
    log: root.openDB<Buffer, LogKey>('log', { keyEncoding: 'ordered-binary', encoding: 'binary' }),
    offsets: root.openDB<number, GroupPartitionKey>('offsets', { keyEncoding: 'ordered-binary' }),
    members: root.openDB<MemberRecord, [string, string]>('members', { keyEncoding: 'ordered-binary' }),
    claims: root.openDB<string, GroupPartitionKey>('claims', { keyEncoding: 'ordered-binary' }),
    events,
  };
  openStores.set(path, { store, refs: 1 });
  return store;
}

/** Drops one reference; the environment closes (after pending writes) when the last one goes. */
export async function releaseLogStore(store: LogStore): Promise<void> {
  const entry = openStores.get(store.path);
  if (entry === undefined || entry.store !== store) return;
  entry.refs -= 1;
  if (entry.refs > 0) return;
  openStores.delete(store.path);
  await store.root.flushed;
  await store.root.close();
}

export const EMPTY_META: Readonly<PartitionMeta> = { start: 0, next: 0, bytes: 0 };

/** The meta of a partition (a copy, safe to mutate). */
export function readMeta(store: LogStore, topic: string, partition: number): PartitionMeta {
  const meta = store.meta.get([topic, partition]);
  return meta === undefined ? { ...EMPTY_META } : { start: meta.start, next: meta.next, bytes: meta.bytes };
}

/** Size of a record for retention by bytes. */
export function recordSize(key: string | null, value: Buffer | null, headers: Readonly<Record<string, string>> | null): number {
  let size = (key === null ? 0 : Buffer.byteLength(key)) + (value === null ? 0 : value.length);
  if (headers !== null) for (const [k, v] of Object.entries(headers)) size += k.length + v.length;
  return size;
}
