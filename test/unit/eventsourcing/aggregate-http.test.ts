import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { metricChannel, type MetricSample } from '../../../src/ports/telemetry.js';
import { account, esApp, type EsApp } from './harness.js';

interface AppendResult { aggregateId: string; version: number; events: { type: string; version: number; data: Record<string, unknown> }[] }

describe('aggregate over HTTP (embedded store and bus)', () => {
  let t: EsApp;
  before(async () => {
    t = await esApp({ account }, { topics: ['account-events'] });
  });
  after(async () => t?.close());

  const post = (id: string, body: unknown, headers: Record<string, string> = {}) => t.app.inject({ method: 'POST', url: `/account/${id}/events`, payload: body as object, headers });
  const events = () => t.store.collection('account-events');

  it('appends events (201 then 200 with ETag) and answers the folded state', async () => {
    const opened = await post('a1', { type: 'Opened', payload: { owner: 'Ada' }, expectedVersion: 0 });
    assert.equal(opened.statusCode, 201, opened.body);
    assert.equal(opened.headers.etag, '"1"');
    assert.deepEqual(opened.json<AppendResult>(), { aggregateId: 'a1', version: 1, events: [{ type: 'Opened', version: 1, data: { owner: 'Ada' } }] });
    const deposited = await post('a1', { type: 'Deposited', payload: { amount: 30 } }, { 'if-match': '"1"' });
    assert.equal(deposited.statusCode, 200, deposited.body);
    assert.equal((await post('a1', { type: 'Withdrawn', payload: { amount: 12.5 } })).statusCode, 200);
    const state = await t.app.inject({ url: '/account/a1' });
    assert.equal(state.statusCode, 200);
    assert.equal(state.headers.etag, '"3"');
    assert.deepEqual(state.json(), { id: 'a1', version: 3, state: { balance: 17.5, open: true, owner: 'Ada', operations: 2 } });
  });

  it('GET /:id/events pages the history', async () => {
    for (let i = 0; i < 4; i++) await post('h1', { type: 'Deposited', payload: { amount: i + 1 } });
    const first = await t.app.inject({ url: '/account/h1/events?limit=3' });
    assert.equal(first.statusCode, 200);
    const page = first.json<{ events: { version: number; type: string; data: { amount: number }; occurredAt: string }[]; nextFromVersion: number | null }>();
    assert.deepEqual(page.events.map((e) => [e.version, e.data.amount]), [[1, 1], [2, 2], [3, 3]]);
    assert.equal(page.nextFromVersion, 4);
    assert.match(page.events[0]?.occurredAt ?? '', /^\d{4}-\d\d-\d\dT/);
    const second = await t.app.inject({ url: '/account/h1/events?limit=3&fromVersion=4' });
    assert.deepEqual(second.json<{ events: { version: number }[]; nextFromVersion: null }>().events.map((e) => e.version), [4]);
    assert.equal(second.json<{ nextFromVersion: null }>().nextFromVersion, null);
  });

  it('404 MR_ES_NOT_FOUND for an aggregate without events', async () => {
    for (const url of ['/account/nobody', '/account/nobody/events']) {
      const res = await t.app.inject({ url });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json<{ code: string }>().code, 'MR_ES_NOT_FOUND');
    }
  });

  it('invalid events are rejected with 400 MR_ES_INVALID_COMMAND and nothing is stored', async () => {
    const cases = [
      { type: 'Deposited', payload: { amount: -5 } },
      { type: 'Deposited', payload: {} },
      { type: 'Opened', payload: { owner: 'x', extra: 1 } },
      { type: 'Deposit', payload: { amount: 5 } },
      { payload: { amount: 5 } },
      { type: 'Deposited', payload: { amount: 5 }, expectedVersion: -1 },
    ];
    for (const body of cases) {
      const res = await post('bad', body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json<{ code: string }>().code, 'MR_ES_INVALID_COMMAND');
    }
    assert.match((await post('bad', cases[3])).json<{ message: string }>().message, /"Deposit" is not an event type/);
    assert.match((await post('bad', cases[0])).json<{ message: string }>().message, /payload\.amount must be > 0/);
    assert.equal(await events().count({ aggregateId: 'bad' }), 0);
    assert.equal(await t.store.collection('_outbox').count({ key: 'bad' }), 0);
  });

  it('two writers with the same expected version: exactly one wins, the other gets 409 with the current version', async () => {
    await post('race', { type: 'Opened', payload: { owner: 'Bob' } });
    for (let round = 0; round < 5; round++) {
      const expectedVersion = round + 1;
      const results = await Promise.all([1, 2].map((n) => post('race', { type: 'Deposited', payload: { amount: n }, expectedVersion })));
      const codes = results.map((r) => r.statusCode).sort();
      assert.deepEqual(codes, [200, 409], results.map((r) => r.body).join(' | '));
      const loser = results.find((r) => r.statusCode === 409);
      assert.equal(loser?.json<{ code: string }>().code, 'MR_ES_VERSION_CONFLICT');
      assert.equal(loser?.json<{ message: string }>().message, `expected version ${expectedVersion}, current ${expectedVersion + 1}`);
      assert.equal(loser?.headers.etag, `"${expectedVersion + 1}"`);
    }
    const stored = await events().find({ aggregateId: 'race' }, { sort: { version: 1 } }).toArray();
    assert.deepEqual(stored.map((d) => d.version), [1, 2, 3, 4, 5, 6]);
  });

  it('a stale expected version is refused without writing', async () => {
    const res = await post('race', { type: 'Deposited', payload: { amount: 1 }, expectedVersion: 2 });
    assert.equal(res.statusCode, 409);
    assert.equal(await events().count({ aggregateId: 'race' }), 6);
  });

  it('concurrent writers without an expected version all land, contiguous from 1', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => post('busy', { type: 'Deposited', payload: { amount: i + 1 } })));
    assert.deepEqual(results.map((r) => r.statusCode).filter((s) => s >= 300), []);
    const stored = await events().find({ aggregateId: 'busy' }, { sort: { version: 1 } }).toArray();
    assert.deepEqual(stored.map((d) => d.version), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal((await t.app.inject({ url: '/account/busy' })).json<{ state: { balance: number } }>().state.balance, 36);
  });

  it('reports appends and refusals on the eventsourcing metric channel', async () => {
    const samples: MetricSample[] = [];
    const listener = (m: unknown): void => void samples.push(m as MetricSample);
    diagnosticsChannel.subscribe(metricChannel('eventsourcing'), listener);
    try {
      await post('m1', { type: 'Deposited', payload: { amount: 1 } });
      await post('m1', { type: 'Deposited', payload: { amount: 0 } });
      await post('m1', { type: 'Deposited', payload: { amount: 1 }, expectedVersion: 0 });
    } finally {
      diagnosticsChannel.unsubscribe(metricChannel('eventsourcing'), listener);
    }
    const seen = samples.filter((m) => m.labels.aggregate === 'account').map((m) => [m.name, m.labels.code, m.value].filter((x) => x !== undefined).join(' '));
    assert.deepEqual(seen, ['events_appended 1', 'appends_refused MR_ES_INVALID_COMMAND 1', 'appends_refused MR_ES_VERSION_CONFLICT 1']);
  });

  it('a repeated Idempotency-Key answers the first result and appends nothing, even concurrently', async () => {
    const first = await post('idem', { type: 'Deposited', payload: { amount: 5 } }, { 'idempotency-key': 'c-1' });
    assert.equal(first.statusCode, 201);
    const again = await post('idem', { type: 'Deposited', payload: { amount: 5 } }, { 'idempotency-key': 'c-1' });
    assert.deepEqual([again.statusCode, again.json()], [201, first.json()]);
    const concurrent = await Promise.all([1, 2, 3].map(() => post('idem', { type: 'Deposited', payload: { amount: 7 } }, { 'idempotency-key': 'c-2' })));
    assert.deepEqual(concurrent.map((r) => r.json<AppendResult>().version), [2, 2, 2]);
    const stored = await events().find({ aggregateId: 'idem' }, { sort: { version: 1 } }).toArray();
    assert.deepEqual(stored.map((d) => [d.version, (d.metadata as { commandId: string }).commandId]), [[1, 'c-1'], [2, 'c-2']]);
  });
});
