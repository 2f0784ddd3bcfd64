// The DocumentStore contract on store.mongodb, against the server at MONGODB_URL (CI: FerretDB v1 with SQLite,
// started by scripts/services/mongodb). Each case gets its own database with a random suffix, dropped after.
// Where FerretDB differs from MongoDB, the case is listed below for that server only, with the reason.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { MongoDocumentStore } from '../../src/adapters/store-mongodb/index.js';
import { systemClock } from '../../src/ports/clock.js';
import { silentLogger } from '../../src/ports/logger.js';
import { documentStoreContract } from './document-store.contract.js';

const url = process.env.MONGODB_URL;

interface ServerFacts {
  /** `buildInfo.ferretdbVersion`, set when the server is FerretDB. */
  readonly ferretdb?: string;
  /** A replica set member or mongos: MongoDB transactions are available. */
  readonly transactional: boolean;
}

async function serverFacts(): Promise<ServerFacts | undefined> {
  if (url === undefined || url === '') return undefined;
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 15_000 });
  try {
    const admin = client.db('admin');
    const [info, hello] = await Promise.all([admin.command({ buildInfo: 1 }), admin.command({ hello: 1 })]);
    const transactional = typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
    return typeof info.ferretdbVersion === 'string' ? { ferretdb: info.ferretdbVersion, transactional: false } : { transactional };
  } catch (error) {
    throw new Error(`MONGODB_URL is set but the server does not answer (${error instanceof Error ? error.message : String(error)}); start it with scripts/services/mongodb start`, { cause: error });
  } finally {
    await client.close();
  }
}

const server = await serverFacts();

const NO_TRANSACTIONS = 'no multi-document transactions on this server (the adapter throws MR_STORE_UNSUPPORTED and drops the "transactions" feature at start)';
const TRANSACTION_CASES = [
  'transactions: withTransaction commits writes to several collections together',
  'transactions: a throwing callback writes nothing and its error is rethrown',
  'transactions: reads inside a transaction see its own writes; outside they do not until commit',
  'transactions: a duplicate key inside a transaction aborts it when it propagates',
  'transactions: findOneAndUpdate and deletes inside a transaction commit atomically',
  'concurrency: concurrent transactions on the same document serialise',
];

/** A standalone MongoDB: everything but transactions (they need a replica set or mongos). */
const STANDALONE_MONGODB: Readonly<Record<string, string>> = {
  'lifecycle: declares its kind and the features of the static table': 'a standalone MongoDB has no transactions or change streams, so the adapter narrows the static features at start',
  ...Object.fromEntries(TRANSACTION_CASES.map((id) => [id, `${NO_TRANSACTIONS}; run MongoDB as a replica set to cover them`])),
};

const NOT_IMPLEMENTED = 'FerretDB v1 answers NotImplemented (238)';
const NO_TEXT = 'FerretDB v1 has no text indexes (createIndexes with "text" fails), so the adapter drops the "text" feature and refuses the index with MR_STORE_UNSUPPORTED';
const NO_GEO = 'FerretDB v1 has no 2dsphere indexes, so the adapter drops the "geo" feature and refuses the index with MR_STORE_UNSUPPORTED';
const NO_TTL = 'FerretDB v1 has no TTL indexes (expireAfterSeconds is NotImplemented), so the adapter drops the "ttl" feature and refuses the index with MR_STORE_UNSUPPORTED';

/**
 * FerretDB v1 (SQLite backend) differences from MongoDB. Each was checked with the plain driver against the
 * server, so the exception is the server's behaviour, not the adapter's; on MongoDB these cases run.
 */
const FERRETDB_V1: Readonly<Record<string, string>> = {
  'lifecycle: declares its kind and the features of the static table': 'FerretDB v1 offers none of transactions, change streams, text, geo or TTL; the adapter detects it (buildInfo.ferretdbVersion) and declares no optional feature',
  'insert: nested objects, arrays, booleans, null and numbers round-trip': 'FerretDB v1 rejects nested arrays ("nested arrays are not supported", code 2)',
  'find: array operators: element equality, $all, $size, $elemMatch': 'FerretDB v1 $elemMatch accepts only operator expressions, not field conditions ("unknown operator: kind")',
  'update: $pull removes matching elements, also by condition': 'FerretDB v1 $pull ignores a condition on array elements ({ qty: { $lte: 0 } } removes nothing)',
  'update: the positional $ updates the first matched array element': 'FerretDB v1 has no positional $ operator ("Cannot create field \'$\'", code 28)',
  'update: findOneAndUpdate returns the document after, projected': `${NOT_IMPLEMENTED} for findAndModify "fields" (projection)`,
  'delete and bulk: findOneAndDelete with sort takes the first in that order (a queue pop)': `${NOT_IMPLEMENTED} for findAndModify "fields" (projection)`,
  'aggregate: $match, $group and $sort': 'FerretDB v1 $group computes { $sum: 1 } as 0',
  'aggregate: $project, $sort, $skip and $limit': `${NOT_IMPLEMENTED} for the $multiply expression operator`,
  'aggregate: $lookup joins another collection of the same database': `${NOT_IMPLEMENTED} for the $lookup stage`,
  'indexes: a unique index treats a missing field as null': 'FerretDB v1 unique indexes do not index missing fields, so two documents without the field are both accepted',
  'indexes: a partial unique index constrains only matching documents': `${NOT_IMPLEMENTED} for partialFilterExpression (the adapter maps it to MR_STORE_UNSUPPORTED)`,
  'indexes: a TTL index is listed with expireAfterSeconds': NO_TTL,
  'indexes: documents past their TTL are not returned': NO_TTL,
  'text and geo: $text matches any term across the indexed fields': NO_TEXT,
  'text and geo: $text score can be projected and sorted on; field weights count': NO_TEXT,
  'text and geo: $text phrases are required and negated terms exclude': NO_TEXT,
  'text and geo: $text combines with other conditions': NO_TEXT,
  'text and geo: $nearSphere returns points nearest first within $maxDistance (meters)': NO_GEO,
  'text and geo: $nearSphere honours $minDistance and limit': NO_GEO,
  'text and geo: $geoWithin $centerSphere selects points inside a spherical cap': NO_GEO,
  'text and geo: $geoWithin a GeoJSON polygon selects points inside it': NO_GEO,
  ...Object.fromEntries(TRANSACTION_CASES.map((id) => [id, `FerretDB v1: ${NO_TRANSACTIONS}`])),
  'concurrency: concurrent $inc on one document loses no update':
    'FerretDB v1 applies update operators by read-modify-write without isolation between connections: 50 concurrent $inc through the plain driver leave n at about 4 (MongoDB updates one document atomically)',
};

function unsupportedOn(facts: ServerFacts | undefined): Readonly<Record<string, string>> {
  if (facts === undefined) return {};
  if (facts.ferretdb !== undefined) return FERRETDB_V1;
  return facts.transactional ? {} : STANDALONE_MONGODB;
}

documentStoreContract({
  name: server?.ferretdb === undefined ? 'store.mongodb' : `store.mongodb (FerretDB ${server.ferretdb})`,
  ...(url === undefined || url === '' ? { skip: 'set MONGODB_URL to run (scripts/services/mongodb start)' } : {}),
  create: async () => {
    const store = new MongoDocumentStore({
      name: 'contract',
      config: { kind: 'mongodb', url: url as string, database: `mr_contract_${randomBytes(5).toString('hex')}`, connectTimeout: 10_000 },
      clock: systemClock,
      logger: silentLogger,
    });
    await store.start();
    return store;
  },
  destroy: async (store) => {
    const client = new MongoClient(url as string, { serverSelectionTimeoutMS: 5000 });
    try {
      await client.db((store as MongoDocumentStore).serverDatabase).dropDatabase();
    } finally {
      await client.close();
    }
  },
  unsupported: unsupportedOn(server),
});
