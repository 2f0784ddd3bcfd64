import { coreSuite } from '../helpers/crud-suite-core.js';
import { createMemoryStore } from '../helpers/crud-memory-store.js';

coreSuite({ name: 'in-memory double', create: async () => createMemoryStore(), destroy: async () => undefined });
