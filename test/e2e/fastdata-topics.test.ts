// Change events between Fast Data stages (fast-data.md §4) on the embedded store and bus, through the
// runtime and the gateway (scenarios in fastdata-topics-scenarios.ts).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { loadProject } from '../../src/config/load-project.js';
import type { ProjectConfig } from '../../src/config/types.js';
import type { DocumentStore } from '../../src/ports/document-store.js';
import { deadLetterTopic, type EventBus } from '../../src/ports/event-bus.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime/create-runtime.js';
import { builtinBackends } from '../../src/runtime/registry.js';
import { topicScenarios, topicsYaml, type TopicsEnv } from './fastdata-topics-scenarios.js';

describe('fast data change events on the embedded backends (pr-update, sv-update v1, sv-trigger, chaining)', () => {
  let dir: string;
  let runtime: Runtime;
  let env: TopicsEnv;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mia-run-fd-topics-'));
    await writeFile(join(dir, 'project.yaml'), topicsYaml(''));
    const { config, diagnostics } = await loadProject(join(dir, 'project.yaml'), { env: {} });
    assert.deepEqual(diagnostics, []);
    let store: DocumentStore | undefined;
    let bus: EventBus | undefined;
    runtime = createRuntime(config as ProjectConfig, {
      port: 0,
      host: '127.0.0.1',
      dataDir: join(dir, 'data'),
      logger: silentLogger,
      // The runtime's own store and bus handles: the test plays the Mia components sharing them.
      backends: {
        ...builtinBackends,
        'store.embedded': (name, cfg, ctx) => (store = builtinBackends['store.embedded']!(name, cfg, ctx) as DocumentStore),
        'bus.embedded': (name, cfg, ctx) => (bus = builtinBackends['bus.embedded']!(name, cfg, ctx) as EventBus),
      },
    });
    const { url } = await runtime.start();
    env = { url, bus: bus!, store: store!, s: '', dlq: deadLetterTopic };
  });

  after(async () => {
    await runtime?.stop('test done');
    await rm(dir, { recursive: true, force: true });
  });

  topicScenarios(() => env);
});
