import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../../src/cli/main.js';
import { sagaToMermaid } from '../../../src/saga/graph.js';
import { orderSaga } from './fixtures.js';

const ROOT = join(import.meta.dirname, '../../..');

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: ROOT, env: {} });
  return { code, out, err };
}

describe('saga graph', () => {
  it('draws transitions, guards, timers, commands, final states and compensation', () => {
    const text = sagaToMermaid('order', orderSaga());
    assert.ok(text.startsWith('---\ntitle: saga order\n---\nstateDiagram-v2\n'));
    for (const line of [
      '  [*] --> paymentRequested : orderCreated',
      '  paymentRequested --> manualReview : paymentExecuted [when]',
      '  paymentRequested --> cancelling : paymentTimedOut (after 15m)',
      '  paymentRequested : executePayment via main',
      '  shippingRequested : notifyCustomer via main',
      '  delivered --> [*]',
      '  class cancelling compensation',
    ]) assert.ok(text.includes(`${line}\n`), `missing ${line}\n${text}`);
  });

  it('mia-run saga graph prints the example as Mermaid; an unknown saga exits 1 with a suggestion', async () => {
    const ok = await cli(['saga', 'graph', 'examples/saga/project.yaml', 'order']);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /refundingPayment --> cancellingOrder : paymentRefunded/);
    const bad = await cli(['saga', 'graph', 'examples/saga/project.yaml', 'ordr']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /"ordr" is not a saga of examples\/saga\/project.yaml; did you mean "order"\?/);
  });
});
