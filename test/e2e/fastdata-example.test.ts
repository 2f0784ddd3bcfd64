// examples/fast-data as a user runs it: the runtime serving the example, its produce.sh script feeding
// Debezium messages through `mia-run topics produce` (a second process on the same embedded bus), and the
// customer single view read through the gateway, including an order that moved between customers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadProject } from '../../src/config/load-project.js';
import type { ProjectConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime/create-runtime.js';
import { waitFor } from '../helpers/saga-harness.js';

const root = new URL('../..', import.meta.url).pathname;

describe('examples/fast-data: Debezium messages to a customer single view through the gateway', () => {
  let dataDir: string;
  let runtime: Runtime;
  let url: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mia-run-fd-example-'));
    const { config, diagnostics } = await loadProject(join(root, 'examples/fast-data/project.yaml'), { env: {} });
    assert.deepEqual(diagnostics, []);
    runtime = createRuntime(config as ProjectConfig, { port: 0, host: '127.0.0.1', dataDir, logger: silentLogger });
    url = (await runtime.start()).url;
  });

  after(async () => {
    await runtime?.stop('test done');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('produce.sh feeds the topics and the view answers with joined orders and lines', async () => {
    const script = spawnSync('sh', [join(root, 'examples/fast-data/produce.sh')], {
      env: { PATH: process.env.PATH ?? '', MIA_RUN: `${process.execPath} --import tsx ${join(root, 'test/e2e/fastdata-cli.ts')}`, DATA_DIR: dataDir },
      encoding: 'utf8',
      cwd: root,
    });
    assert.equal(script.status, 0, script.stderr + script.stdout);
    assert.match(script.stdout, /produced 2 message\(s\) to "erp.public.customers"/);
    const view = async (id: number): Promise<Record<string, unknown> | undefined> => {
      const res = await fetch(`${url}/customer-360/${id}`);
      return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined;
    };
    const ada = await waitFor(async () => {
      const sv = await view(1);
      return (sv?.orders as unknown[] | undefined)?.length === 1 && (sv?.orders as { lines: unknown[] }[])[0]?.lines.length === 1 ? sv : undefined;
    }, 'customer 1 with one order and its line');
    assert.equal(ada.name, 'Ada Lovelace');
    assert.deepEqual(ada.orders, [{ id: 7, total: 12.5, status: 'open', lines: [{ sku: 'book', qty: 2 }] }]);
    const grace = await waitFor(async () => {
      const sv = await view(2);
      return (sv?.orders as { lines: unknown[] }[] | undefined)?.[0]?.lines.length === 1 ? sv : undefined;
    }, 'customer 2 with the moved order');
    assert.deepEqual(grace.orders, [{ id: 8, total: 9.9, status: 'paid', lines: [{ sku: 'pen', qty: 1 }] }]);
    const list = (await (await fetch(`${url}/customer-360?_s=customerId&_p=customerId`)).json()) as { customerId: number }[];
    assert.deepEqual(list.map((c) => c.customerId), [1, 2]);
    const count = await (await fetch(`${url}/orders/count?_q=${encodeURIComponent(JSON.stringify({ total: { $gt: 10 } }))}`)).json();
    assert.equal(count, 1);
  });
});
