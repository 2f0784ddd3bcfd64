import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { EmbeddedEventBus } from '../../src/adapters/bus-embedded/index.js';
import { systemClock } from '../../src/ports/clock.js';
import { silentLogger } from '../../src/ports/logger.js';
import { eventBusContract } from './event-bus.contract.js';

const dataDir = mkdtempSync(join(tmpdir(), 'mia-run-bus-contract-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

eventBusContract({
  name: 'bus.embedded',
  create: async () => {
    const bus = new EmbeddedEventBus('bus', { kind: 'embedded', topics: {} }, { dataDir, clock: systemClock, logger: silentLogger }, { heartbeatMs: 50, sessionTimeoutMs: 2000 });
    await bus.start();
    return bus;
  },
});
