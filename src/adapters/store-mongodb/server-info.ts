/**
 * What the connected server is and which optional features it offers, from `hello` and `buildInfo`.
 * - transactions and change streams need a replica set member (`setName`) or a mongos (`msg: 'isdbgrid'`);
 * - FerretDB (its `buildInfo` carries `ferretdbVersion`) v1 has no transactions, change streams, text, 2dsphere
 *   or TTL indexes;
 * - every MongoDB server offers text, 2dsphere and TTL indexes.
 */
import type { Document as DriverDocument } from 'mongodb';
import type { StoreFeature } from '../../ports/document-store.js';

export interface ServerInfo {
  /** e.g. `MongoDB 7.0.14 (replica set rs0)` or `FerretDB v1.24.2 (MongoDB 7.0.42 protocol)`. */
  readonly description: string;
  readonly version: string;
  /** Set when the server is FerretDB. */
  readonly ferretdbVersion?: string;
  readonly replicaSet?: string;
  readonly sharded: boolean;
}

export function describeServer(hello: DriverDocument, buildInfo: DriverDocument): ServerInfo {
  const version = typeof buildInfo.version === 'string' ? buildInfo.version : 'unknown';
  const replicaSet = typeof hello.setName === 'string' ? hello.setName : undefined;
  const sharded = hello.msg === 'isdbgrid';
  if (typeof buildInfo.ferretdbVersion === 'string') {
    return { description: `FerretDB ${buildInfo.ferretdbVersion} (MongoDB ${version} protocol)`, version, ferretdbVersion: buildInfo.ferretdbVersion, sharded: false };
  }
  const topology = replicaSet !== undefined ? ` (replica set ${replicaSet})` : sharded ? ' (sharded cluster)' : ' (standalone)';
  return { description: `MongoDB ${version}${topology}`, version, ...(replicaSet === undefined ? {} : { replicaSet }), sharded };
}

/** The optional features the server offers. */
export function featuresOf(server: ServerInfo): ReadonlySet<StoreFeature> {
  if (server.ferretdbVersion !== undefined) return new Set();
  const features = new Set<StoreFeature>(['text', 'geo', 'ttl']);
  if (server.replicaSet !== undefined || server.sharded) {
    features.add('transactions');
    features.add('changeStreams');
  }
  return features;
}
