// Child process of test/e2e/saga-crash.test.ts: runs examples/saga from source on a given data directory and
// port 0, with a short command lease so a restarted process takes over undelivered commands quickly.
// Usage: node --import tsx test/helpers/saga-crash-child.ts <dataDir>
import { join } from 'node:path';
import { loadProject } from '../../src/config/load-project.js';
import type { ProjectConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createRuntime } from '../../src/runtime/create-runtime.js';

const dataDir = process.argv[2] ?? '.data';
const root = new URL('../..', import.meta.url).pathname;
const { config, diagnostics } = await loadProject(join(root, 'examples/saga/project.yaml'), { env: {} });
if (config === undefined) throw new Error(JSON.stringify(diagnostics));
const order = config.sagas.order;
if (order === undefined) throw new Error('no order saga');
const project: ProjectConfig = { ...config, sagas: { order: { ...order, commandRetry: { ...order.commandRetry, lease: '300ms' } } } };
const runtime = createRuntime(project, { port: 0, host: '127.0.0.1', dataDir, logger: silentLogger });
const { url } = await runtime.start();
console.log(`listening on ${url}`);
