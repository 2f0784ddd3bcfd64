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

  const post = async (id: string, body: object, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}/accounts/${id}/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: res.status, etag: res.headers.get('etag'), body: (await res.json()) as Record<string, unknown> };
  };

  it('serves the README calls through the gateway endpoint', async () => {
    assert.equal((await post('acc-1', { type: 'Opened', payload: { owner: 'Ada' }, expectedVersion: 0 })).status, 201);
    assert.equal((await post('acc-1', { type: 'Deposited', payload: { amount: 100, currency: 'EUR' }, expectedVersion: 1 })).status, 200);
    const withdrawn = await post('acc-1', { type: 'Withdrawn', payload: { amount: 30 } }, { 'if-match': '"2"' });
    assert.equal(withdrawn.status, 200);
    assert.equal(withdrawn.etag, '"3"');
    const state = (await (await fetch(`${url}/accounts/acc-1`)).json()) as { version: number; state: { balance: number; owner: string; operations: number } };
    assert.deepEqual([state.version, state.state.balance, state.state.owner, state.state.operations], [3, 70, 'Ada', 2]);
    const stale = await post('acc-1', { type: 'Deposited', payload: { amount: 5, currency: 'EUR' }, expectedVersion: 1 });
    assert.deepEqual([stale.status, stale.body.code, stale.body.message], [409, 'MR_ES_VERSION_CONFLICT', 'expected version 1, current 3']);
    const invalid = await post('acc-1', { type: 'Deposited', payload: { amount: -5, currency: 'EUR' } });
    assert.deepEqual([invalid.status, invalid.body.code], [400, 'MR_ES_INVALID_COMMAND']);
    const balance = await waitFor(async () => {
      const res = await fetch(`${url}/accounts/-/read-models/balances/acc-1`);
      const doc = res.status === 200 ? ((await res.json()) as { balance: number; __internal__counter: number }) : undefined;
      return doc?.__internal__counter === 3 ? doc : undefined;
    }, 'balance read model at version 3');
    assert.equal(balance.balance, 70);
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
