import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { AggregateConfig } from '../../../src/config/sections/aggregates.js';
import { metricChannel, type MetricSample } from '../../../src/ports/telemetry.js';
import { account, esApp, type EsApp } from './harness.js';

interface Answer { aggregateId: string; version: number; events: { type: string; version: number; data: Record<string, unknown> }[] }
interface ErrorBody { statusCode: number; code: string; message: string }

const withCommands: AggregateConfig = {
  ...account,
  commands: {
    open: { emits: 'Opened', creates: true },
    deposit: { emits: 'Deposited' },
    withdraw: {
      emits: 'Withdrawn',
      guards: [
        { state: 'open', eq: true, message: 'account is closed' },
        { state: 'balance', gte: { input: 'amount' }, message: 'insufficient funds: balance {state.balance}, withdrawal {input.amount}' },
      ],
    },
    drain: { handler: { module: './hooks.ts', export: 'drain' }, input: { type: 'object', properties: { dryRun: { type: 'boolean' } }, additionalProperties: false } },
    limited: { emits: 'Deposited', guards: [{ input: 'amount', lte: 1000 }] },
  },
};

describe('named command routes (embedded store and bus)', () => {
  let t: EsApp;
  before(async () => {
    t = await esApp({ account: withCommands }, { topics: ['account-events'], sourceFile: fileURLToPath(new URL('fixtures/project.yaml', import.meta.url)) });
  });
  after(async () => t?.close());

  const command = (id: string, name: string, body: unknown, headers: Record<string, string> = {}) => t.app.inject({ method: 'POST', url: `/account/${id}/${name}`, payload: body as object, headers });
  const stored = async (id: string) => t.store.collection('account-events').count({ aggregateId: id });

  it('creates with 201, then 200 with ETag; the body becomes the emitted event', async () => {
    const opened = await command('c1', 'open', { owner: 'Ada' });
    assert.equal(opened.statusCode, 201, opened.body);
    assert.equal(opened.headers.etag, '"1"');
    assert.deepEqual(opened.json<Answer>(), { aggregateId: 'c1', version: 1, events: [{ type: 'Opened', version: 1, data: { owner: 'Ada' } }] });
    const deposited = await command('c1', 'deposit', { amount: 100 }, { 'if-match': '"1"' });
    assert.equal(deposited.statusCode, 200, deposited.body);
    assert.equal(deposited.headers.etag, '"2"');
    const withdrawn = await command('c1', 'withdraw', { amount: 30 });
    assert.deepEqual([withdrawn.statusCode, withdrawn.json<Answer>().events], [200, [{ type: 'Withdrawn', version: 3, data: { amount: 30 } }]]);
    const state = await t.app.inject({ url: '/account/c1' });
    assert.deepEqual(state.json(), { id: 'c1', version: 3, state: { balance: 70, open: true, owner: 'Ada', operations: 2 } });
  });

  it('a failed guard is 422 MR_ES_REJECTED with the declared message, and nothing is stored', async () => {
    await command('c2', 'open', { owner: 'Bob' });
    await command('c2', 'deposit', { amount: 10 });
    const samples: MetricSample[] = [];
    const listener = (m: unknown) => void samples.push(m as MetricSample);
    diagnosticsChannel.subscribe(metricChannel('eventsourcing'), listener);
    const refused = await command('c2', 'withdraw', { amount: 25 }).finally(() => diagnosticsChannel.unsubscribe(metricChannel('eventsourcing'), listener));
    assert.deepEqual(samples.map((m) => [m.name, m.labels.command, m.value]), [['commands_rejected', 'withdraw', 1]]);
    assert.equal(refused.statusCode, 422, refused.body);
    assert.deepEqual(refused.json<ErrorBody>(), { statusCode: 422, code: 'MR_ES_REJECTED', error: 'Unprocessable Entity', message: 'insufficient funds: balance 10, withdrawal 25' });
    const generic = await command('c2', 'limited', { amount: 5000 });
    assert.deepEqual([generic.statusCode, generic.json<ErrorBody>().message], [422, 'input.amount lte 1000 does not hold (input.amount is 5000)']);
    assert.equal(await stored('c2'), 2);
  });

  it('invalid input is 400 MR_ES_INVALID_COMMAND (before any guard), nothing stored', async () => {
    await command('c3', 'open', { owner: 'Cy' });
    for (const [name, body] of [['withdraw', { amount: -5 }], ['deposit', {}], ['open', { owner: 'x', extra: 1 }], ['drain', { dryRun: 'yes' }]] as const) {
      const res = await command('c3', name, body);
      assert.equal(res.statusCode, 400, `${name}: ${res.body}`);
      assert.equal(res.json<ErrorBody>().code, 'MR_ES_INVALID_COMMAND');
    }
    assert.match((await command('c3', 'withdraw', { amount: -5 })).json<ErrorBody>().message, /^invalid "withdraw" command: body\.amount must be > 0/);
    assert.equal(await stored('c3'), 1);
  });

  it('expected versions: If-Match mismatch is 409 with the current version; creating twice is 409; unknown aggregate is 404', async () => {
    await command('c4', 'open', { owner: 'Di' });
    await command('c4', 'deposit', { amount: 5 });
    const stale = await command('c4', 'deposit', { amount: 5 }, { 'if-match': '"1"' });
    assert.deepEqual([stale.statusCode, stale.json<ErrorBody>().code, stale.json<ErrorBody>().message, stale.headers.etag], [409, 'MR_ES_VERSION_CONFLICT', 'expected version 1, current 2', '"2"']);
    const again = await command('c4', 'open', { owner: 'Di' });
    assert.deepEqual([again.statusCode, again.json<ErrorBody>().message], [409, 'expected version 0, current 2']);
    const missing = await command('nobody', 'deposit', { amount: 5 });
    assert.deepEqual([missing.statusCode, missing.json<ErrorBody>().code], [404, 'MR_ES_NOT_FOUND']);
    assert.equal(await stored('nobody'), 0);
    assert.equal((await t.app.inject({ method: 'POST', url: '/account/c4/fly', payload: {} })).statusCode, 404);
  });

  it('a code handler decides several events from the state, rejects with ctx.reject, or decides none', async () => {
    await command('c5', 'open', { owner: 'Eve' });
    const empty = await command('c5', 'drain', {});
    assert.deepEqual([empty.statusCode, empty.json<ErrorBody>().code, empty.json<ErrorBody>().message], [422, 'MR_ES_REJECTED', 'account c5 is empty at version 1']);
    await command('c5', 'deposit', { amount: 40 });
    const noop = await command('c5', 'drain', { dryRun: true });
    assert.deepEqual([noop.statusCode, noop.json<Answer>()], [200, { aggregateId: 'c5', version: 2, events: [] }]);
    const drained = await command('c5', 'drain', {});
    assert.equal(drained.statusCode, 200, drained.body);
    assert.deepEqual(drained.json<Answer>().events.map((e) => [e.type, e.version, e.data.amount]), [['Withdrawn', 3, 20], ['Withdrawn', 4, 20]]);
    assert.equal((await t.app.inject({ url: '/account/c5' })).json<{ state: { balance: number } }>().state.balance, 0);
  });

  it('concurrent commands without If-Match are re-decided on the new state: guards hold (no overdraft)', async () => {
    await command('c6', 'open', { owner: 'Fay' });
    await command('c6', 'deposit', { amount: 100 });
    const results = await Promise.all(Array.from({ length: 3 }, () => command('c6', 'withdraw', { amount: 40 })));
    const codes = results.map((r) => r.statusCode).sort();
    assert.deepEqual(codes, [200, 200, 422], results.map((r) => r.body).join('\n'));
    assert.equal((await t.app.inject({ url: '/account/c6' })).json<{ state: { balance: number } }>().state.balance, 20);
  });

  it('a repeated Idempotency-Key answers the first result without deciding again', async () => {
    await command('c7', 'open', { owner: 'Gus' });
    await command('c7', 'deposit', { amount: 50 });
    const first = await command('c7', 'withdraw', { amount: 50 }, { 'idempotency-key': 'w-1' });
    const repeat = await command('c7', 'withdraw', { amount: 50 }, { 'idempotency-key': 'w-1' });
    assert.deepEqual([first.statusCode, repeat.statusCode], [200, 200], repeat.body);
    assert.deepEqual(repeat.json<Answer>(), first.json<Answer>());
    assert.equal(await stored('c7'), 3);
  });
});
