/**
 * One mia-run process for `eventsourcing-two-processes.test.ts`: the runtime (every role) on a descriptor
 * given as JSON (a loaded ProjectConfig), on the shared data directory, listening on a free port. Prints
 * `url <url>` once started, stops gracefully on SIGTERM. The embedded bus heartbeats fast, so a consumer
 * group rebalances within a second when a member leaves.
 */
import { readFileSync } from 'node:fs';
import { createEmbeddedEventBus } from '../../src/adapters/bus-embedded/index.js';
import type { ProjectConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createRuntime } from '../../src/runtime/create-runtime.js';
import { builtinBackends } from '../../src/runtime/registry.js';

const [configFile, dataDir] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configFile!, 'utf8')) as ProjectConfig;
const runtime = createRuntime(config, {
  port: 0,
  host: '127.0.0.1',
  dataDir: dataDir!,
  logger: silentLogger,
  backends: { ...builtinBackends, 'bus.embedded': (name, bus, ctx) => createEmbeddedEventBus(name, bus, ctx, { heartbeatMs: 100, sessionTimeoutMs: 1000, pollMs: 10 }) },
});
const { url } = await runtime.start();
process.stdout.write(`url ${url}\n`);
process.once('SIGTERM', () => {
  void runtime.stop().then(() => process.exit(0));
});
