import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeServer, featuresOf } from '../../../../src/adapters/store-mongodb/server-info.js';

describe('server features from hello and buildInfo', () => {
  it('a standalone MongoDB offers text, geo and TTL but no transactions or change streams', () => {
    const info = describeServer({ isWritablePrimary: true }, { version: '7.0.14' });
    assert.equal(info.description, 'MongoDB 7.0.14 (standalone)');
    assert.deepEqual([...featuresOf(info)].sort(), ['geo', 'text', 'ttl']);
  });

  it('a replica set member or a mongos adds transactions and change streams', () => {
    const rs = describeServer({ isWritablePrimary: true, setName: 'rs0' }, { version: '8.0.1' });
    assert.equal(rs.description, 'MongoDB 8.0.1 (replica set rs0)');
    assert.deepEqual([...featuresOf(rs)].sort(), ['changeStreams', 'geo', 'text', 'transactions', 'ttl']);
    const mongos = describeServer({ msg: 'isdbgrid' }, { version: '8.0.1' });
    assert.deepEqual([...featuresOf(mongos)].sort(), ['changeStreams', 'geo', 'text', 'transactions', 'ttl']);
  });

  it('FerretDB is recognised by buildInfo.ferretdbVersion and offers no optional feature', () => {
    const info = describeServer({ isWritablePrimary: true }, { version: '7.0.42', ferretdbVersion: 'v1.24.2' });
    assert.equal(info.description, 'FerretDB v1.24.2 (MongoDB 7.0.42 protocol)');
    assert.equal(info.ferretdbVersion, 'v1.24.2');
    assert.deepEqual([...featuresOf(info)], []);
  });
});
