// The bank example end to end, in process: runtime + gateway on a real listener (embedded store and bus in
// a temp data dir), the README's calls, then `mia-run aggregates rebuild` on the same data directory.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { loadProject } from '../../src/config/load-project.js';
import { createRuntime, type Runtime } from '../../src/runtime/create-runtime.js';
import { silentLogger } from '../../src/ports/logger.js';
import { waitFor } from '../unit/eventsourcing/harness.js';

const root = new URL('../..', import.meta.url).pathname;
const file = join(root, 'examples/bank/project.yaml');

describe('examples/bank (runtime, gateway, CLI rebuild)', () => {
  let dataDir: string;
  let runtime: Runtime;
  let url: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mia-run-bank-'));
    const { config, diagnostics } = await loadProject(file, { cwd: root, env: {} });
    assert.ok(config, diagnostics.map((d) => d.message).join('\n'));
    runtime = createRuntime(config, { port: 0, host: '127.0.0.1', dataDir, logger: silentLogger });
    url = (await runtime.start()).url;
  });
  after(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const call = async (path: string, body: object, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}/accounts/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: res.status, etag: res.headers.get('etag'), body: (await res.json()) as Record<string, unknown> };
  };

  it('serves the README calls through the gateway endpoint (named commands)', async () => {
    const opened = await call('acc-1/open', { owner: 'Ada' });
    assert.deepEqual([opened.status, opened.body], [201, { aggregateId: 'acc-1', version: 1, events: [{ type: 'Opened', version: 1, data: { owner: 'Ada' } }] }]);
    assert.equal((await call('acc-1/deposit', { amount: 100, currency: 'EUR' }, { 'if-match': '"1"' })).status, 200);
    const withdrawn = await call('acc-1/withdraw', { amount: 30 });
    assert.deepEqual([withdrawn.status, withdrawn.etag, withdrawn.body], [200, '"3"', { aggregateId: 'acc-1', version: 3, events: [{ type: 'Withdrawn', version: 3, data: { amount: 30 } }] }]);
    const overdraft = await call('acc-1/withdraw', { amount: 500 });
    assert.deepEqual([overdraft.status, overdraft.body], [422, { statusCode: 422, code: 'MR_ES_REJECTED', error: 'Unprocessable Entity', message: 'insufficient funds: balance 70, withdrawal 500' }]);
    const state = (await (await fetch(`${url}/accounts/acc-1`)).json()) as { version: number; state: { balance: number; owner: string; operations: number } };
    assert.deepEqual([state.version, state.state.balance, state.state.owner, state.state.operations], [3, 70, 'Ada', 2]);
    const stale = await call('acc-1/deposit', { amount: 5, currency: 'EUR' }, { 'if-match': '"1"' });
    assert.deepEqual([stale.status, stale.body.code, stale.body.message], [409, 'MR_ES_VERSION_CONFLICT', 'expected version 1, current 3']);
    const invalid = await call('acc-1/deposit', { amount: -5, currency: 'EUR' });
    assert.deepEqual([invalid.status, invalid.body.code, invalid.body.message], [400, 'MR_ES_INVALID_COMMAND', 'invalid "deposit" command: body.amount must be > 0']);
    const close = await call('acc-1/close', {});
    assert.deepEqual([close.status, close.body.code, close.body.message], [422, 'MR_ES_REJECTED', 'account acc-1 still holds 70; withdraw it first']);
    const history = (await (await fetch(`${url}/accounts/acc-1/events?fromVersion=2&limit=10`)).json()) as { events: { version: number }[] };
    assert.deepEqual(history.events.map((e) => e.version), [2, 3]);
    const balance = await waitFor(async () => {
      const res = await fetch(`${url}/accounts/-/read-models/balances/acc-1`);
      const doc = res.status === 200 ? ((await res.json()) as { balance: number; __internal__counter: number }) : undefined;
      return doc?.__internal__counter === 3 ? doc : undefined;
    }, 'balance read model at version 3');
    assert.equal(balance.balance, 70);
  });

  it('the raw append route still works next to the commands', async () => {
    assert.equal((await call('acc-2/events', { type: 'Opened', payload: { owner: 'Bo' }, expectedVersion: 0 })).status, 201);
    assert.equal((await call('acc-2/events', { type: 'Deposited', payload: { amount: 5, currency: 'EUR' }, expectedVersion: 1 })).status, 200);
    const emptied = await call('acc-2/withdraw', { amount: 5 });
    assert.equal(emptied.status, 200);
    const closed = await call('acc-2/close', {}, { 'if-match': '"3"' });
    assert.deepEqual([closed.status, (closed.body.events as { type: string }[]).map((e) => e.type)], [200, ['Closed']]);
  });

  it('`mia-run aggregates rebuild` replays the store into a fresh read model; unknown names exit 1 with a suggestion', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), cwd: root, env: {} };
    assert.equal(await runCli(['aggregates', 'rebuild', file, 'balances', '--data-dir', dataDir], io), 0, err.join(''));
    assert.equal(out.join(''), 'balances: rebuilt from aggregate account, 1 document(s)\n');
    const doc = (await (await fetch(`${url}/accounts/-/read-models/balances/acc-1`)).json()) as { balance: number };
    assert.equal(doc.balance, 70);
    err.length = 0;
    assert.equal(await runCli(['aggregates', 'rebuild', file, 'balance', '--data-dir', dataDir], io), 1);
    assert.match(err.join(''), /MR_CONFIG_UNKNOWN_REF: "balance" is not a read model of .*; did you mean "balances"\?/);
  });
});
