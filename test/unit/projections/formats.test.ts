import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isMiaRunError } from '../../../src/errors.js';
import { BUILTIN_FORMATS, customParser, type MessageAdapter } from '../../../src/projections/formats/index.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { msg, startHarness, type Harness } from './harness.js';

const users = { topic: 'users', primaryKey: ['userId', 'taxCode'], fields: [{ name: 'userId', source: 'USER_ID', cast: 'toInteger' }, { name: 'taxCode', source: 'TAX_CODE' }, { name: 'coins', source: 'COINS', cast: 'toNumber' }, { name: 'name', source: 'NAME', cast: 'toString' }] };
const clean = (docs: Record<string, unknown>[]): unknown[] => docs.map(({ userId, taxCode, coins, name, __STATE__ }) => ({ userId, taxCode, coins, name, __STATE__ }));

describe('debezium parser', () => {
  it('unwraps Kafka Connect {schema, payload} on key and value and reads source.lsn as a padded position', async () => {
    const parsed = await BUILTIN_FORMATS.debezium(msg('t', { schema: {}, payload: { ID: 1 } }, { schema: {}, payload: { op: 'u', before: { ID: 1 }, after: { ID: 1, A: 2 }, source: { lsn: 24023128 } } }), { primaryKeys: ['ID'], position: 'source.lsn' });
    assert.equal(parsed.kind, 'change');
    assert.ok(parsed.kind === 'change');
    assert.deepEqual([parsed.operation, parsed.key, parsed.position, parsed.counterType], ['U', { ID: 1 }, '00000000000024023128', 'lsn']);
  });
  it('skips tombstones and truncates; refuses unknown ops as MR_FD_INVALID_MESSAGE', async () => {
    assert.deepEqual(await BUILTIN_FORMATS.debezium(msg('t', { ID: 1 }, null), { primaryKeys: ['ID'] }), { kind: 'skip', reason: 'tombstone' });
    assert.deepEqual(await BUILTIN_FORMATS.debezium(msg('t', null, { op: 't' }), { primaryKeys: ['ID'] }), { kind: 'skip', reason: 'truncate' });
    assert.throws(() => BUILTIN_FORMATS.debezium(msg('t', null, { op: 'x', after: {} }), { primaryKeys: ['ID'] }), (e) => isMiaRunError(e) && e.code === 'MR_FD_INVALID_MESSAGE' && !e.retriable);
  });
});

describe('formats through a projection (embedded store)', () => {
  const harnesses: Harness[] = [];
  after(async () => Promise.all(harnesses.map((h) => h.close())));

  it('db2 (Mia conformance lines 1-2): upsert by key object, null value deletes, composite key', async () => {
    const h = await startHarness({ parser: BUILTIN_FORMATS.db2, projections: { users } });
    harnesses.push(h);
    await h.feed([msg('users', { USER_ID: 123, TAX_CODE: 'ABCDEF12B02M100O' }, { USER_ID: 123, TAX_CODE: 'ABCDEF12B02M100O', NAME: 456 })]);
    assert.deepEqual(clean(await h.docs('users')), [{ userId: 123, taxCode: 'ABCDEF12B02M100O', coins: undefined, name: '456', __STATE__: 'PUBLIC' }]);
    await h.feed([msg('users', { USER_ID: 123, TAX_CODE: 'ABCDEF12B02M100O' }, null)]);
    assert.deepEqual(clean(await h.docs('users')), [{ userId: 123, taxCode: 'ABCDEF12B02M100O', coins: undefined, name: '456', __STATE__: 'DELETED' }]);
  });

  it('db2: a rewritten "__deleted": "true" row is a delete', async () => {
    const h = await startHarness({ parser: BUILTIN_FORMATS.basic, projections: { users } });
    harnesses.push(h);
    await h.feed([msg('users', '', { USER_ID: 1, TAX_CODE: 'X', NAME: 'a' })]);
    await h.feed([msg('users', '', { USER_ID: 1, TAX_CODE: 'X', __deleted: 'true' })]);
    assert.equal((await h.docs('users'))[0]?.__STATE__, 'DELETED');
  });

  it('golden-gate (Mia conformance line 3): string key, op_type, pos as a padded position; U with a new key is delete + create', async () => {
    const h = await startHarness({ parser: BUILTIN_FORMATS['golden-gate'], projections: { users }, position: 'pos' });
    harnesses.push(h);
    await h.feed([msg('users', '123', { op_type: 'I', before: null, after: { USER_ID: 123, TAX_CODE: 'the-fiscal-code-123', COINS: 300000000 }, pos: '00000000000000001234' })]);
    const [doc] = await h.docs('users');
    assert.deepEqual([doc?.__internal__counter, doc?.__internal__counterType, doc?.coins], ['00000000000000001234', 'pos', 300000000]);
    await h.feed([msg('users', '124', { op_type: 'U', before: { USER_ID: 123, TAX_CODE: 'the-fiscal-code-123' }, after: { USER_ID: 124, TAX_CODE: 'the-fiscal-code-123', COINS: 1 }, pos: 1300 })]);
    assert.deepEqual(clean(await h.docs('users')), [
      { userId: 123, taxCode: 'the-fiscal-code-123', coins: 300000000, name: undefined, __STATE__: 'DELETED' },
      { userId: 124, taxCode: 'the-fiscal-code-123', coins: 1, name: undefined, __STATE__: 'PUBLIC' },
    ]);
    // An older pos for the new key is stale even though its Kafka timestamp is later.
    await h.feed([msg('users', '124', { op_type: 'U', before: null, after: { USER_ID: 124, TAX_CODE: 'the-fiscal-code-123', COINS: 99 }, pos: 1299 })]);
    assert.equal((await h.docs('users', { userId: 124 }))[0]?.coins, 1);
    // Key from the string key when the image lacks the PK columns: "125_T" split on "_".
    await h.feed([msg('users', '125_T', { op_type: 'D', before: { COINS: 5 }, after: null, pos: 1400 })]);
    assert.equal((await h.docs('users', { userId: 125 }))[0]?.__STATE__, 'DELETED');
  });

  it('custom adapter: its operation and position are used, null skips, a throw is MR_FD_ADAPTER_FAILED', async () => {
    const adapter: MessageAdapter = (message, primaryKeys) => {
      const value = JSON.parse(message.value?.toString('utf8') ?? 'null') as { kind: string; row: Record<string, unknown>; seq: number } | null;
      if (value === null) return null;
      if (value.kind === 'boom') throw new Error('cannot read');
      assert.deepEqual(primaryKeys, ['USER_ID', 'TAX_CODE']);
      return { operation: value.kind === 'gone' ? 'D' : 'I', key: null, before: value.kind === 'gone' ? value.row : null, after: value.kind === 'gone' ? null : value.row, position: value.seq };
    };
    const h = await startHarness({ parser: customParser(adapter, silentLogger), projections: { users } });
    harnesses.push(h);
    await h.feed([msg('users', null, { kind: 'new', row: { USER_ID: 7, TAX_CODE: 'T', NAME: 'n' }, seq: 10 }), msg('users', null, null)]);
    const [doc] = await h.docs('users');
    assert.deepEqual([doc?.name, doc?.__internal__counter, doc?.__internal__counterType], ['n', 10, 'custom']);
    await assert.rejects(h.feed([msg('users', null, { kind: 'boom' })]), (e) => isMiaRunError(e) && e.code === 'MR_FD_ADAPTER_FAILED' && !e.retriable);
  });
});
