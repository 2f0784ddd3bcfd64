// The strangler example end to end: its descriptor loaded as a user writes it, real legacy and new services
// on port 0, shadow traffic compared in the server, and `mia-run strangler report` reading it back.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../../src/config/load-project.js';
import { runCli } from '../../src/cli/main.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createRuntime } from '../../src/runtime/create-runtime.js';
import { createGateway } from '../../src/gateway/index.js';
import { fakeBackends } from '../helpers/fake-backends.js';

const root = new URL('../..', import.meta.url).pathname;

async function service(answer: (url: string) => unknown): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer(req.url!))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function io(env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  return { io: { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stderr += t), cwd: root, env }, out: () => stdout, err: () => stderr };
}

describe('strangler example and report command', () => {
  test('shadow diffs show up in `mia-run strangler report`; without a server the command exits 1', async () => {
    const legacy = await service((url) => (url.startsWith('/api/search') ? { results: [url.endsWith('x') ? 'x' : 'a', 'legacy'], took: 1 } : { from: 'legacy' }));
    const modern = await service((url) => (url.startsWith('/api/search') ? { results: [url.endsWith('x') ? 'x' : 'a', url.endsWith('x') ? 'new' : 'legacy'], took: 2 } : { from: 'modern' }));
    const env = { LEGACY_URL: legacy.url, MODERN_URL: modern.url };
    const { config, diagnostics } = await loadProject('examples/strangler/project.yaml', { cwd: root, env });
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
    const dataDir = await mkdtemp(join(tmpdir(), 'mia-run-strangler-'));
    const runtime = createRuntime(config!, { port: 0, logger: silentLogger, dataDir, backends: fakeBackends().factories, capabilities: [{ name: 'gateway', role: 'gateway', create: createGateway }] });
    const { url } = await runtime.start();
    try {
      assert.deepEqual(await (await fetch(`${url}/somewhere/old`)).json(), { from: 'legacy' });
      for (const q of ['a', 'x']) assert.equal(((await (await fetch(`${url}/api/search?q=${q}`)).json()) as { results: string[] }).results[1], 'legacy');
      for (let i = 0; i < 200; i++) {
        const report = (await (await fetch(`${url}/-/strangler`)).json()) as { stranglers: { routes: { shadow?: { compared: number } }[] }[] };
        if (report.stranglers[0]!.routes[2]!.shadow!.compared === 2) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const cli = io(env);
      const code = await runCli(['strangler', 'report', 'examples/strangler/project.yaml', '--url', url], cli.io);
      assert.equal(code, 0, cli.err());
      const lines = cli.out().split('\n');
      assert.equal(lines[0], 'strangler / (legacy: legacy, 1 unclaimed requests)');
      assert.match(lines.find((l) => l.includes('/api/search/*'))!, /shadow\s+requests 2, to new 0\.0%, shadow match 50\.0% \(1\/2, 0 errors\)/);
      assert.match(cli.out(), /GET \/api\/search\?q=x: results\.1: legacy "legacy", new "new"/);
      assert.match(lines.find((l) => l.includes('/api/cart/*'))!, /split 10%/);
    } finally {
      await runtime.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
    const offline = io({ ...env, PORT: '1' });
    const code = await runCli(['strangler', 'report', 'examples/strangler/project.yaml'], offline.io);
    assert.equal(code, 1);
    assert.match(offline.out(), /\/api\/search\/\*\s+shadow/);
    assert.match(offline.err(), /no live statistics: http:\/\/127\.0\.0\.1:1\/-\/strangler cannot be reached/);
    for (const s of [legacy.server, modern.server]) {
      s.closeAllConnections();
      s.close();
    }
  });
});
