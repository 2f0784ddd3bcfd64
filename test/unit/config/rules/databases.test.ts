import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadProject } from '../../../../src/config/load-project.js';
import { createStoreFeatureRule, databaseRules } from '../../../../src/config/rules/databases.js';
import { RULES } from '../../../../src/config/rules/index.js';
import type { StoreFeature } from '../../../../src/ports/store-features.js';

const fixture = fileURLToPath(new URL('fixtures/database-features/project.yaml', import.meta.url));
const cwd = fileURLToPath(new URL('.', import.meta.url));

/** A features table narrower than the real one, so the fixture has something to reject. */
const narrow = (kind: string): ReadonlySet<StoreFeature> => new Set<StoreFeature>(kind === 'store.mongodb' ? ['text', 'geo', 'ttl'] : ['geo']);

describe('rule database-features', () => {
  it('rejects indexes whose database kind lacks the feature, naming the database, the feature and the place', async () => {
    const { config, diagnostics } = await loadProject(fixture, { cwd, env: {}, rules: [createStoreFeatureRule(narrow)] });
    assert.equal(config, undefined);
    const lines = diagnostics.map((d) => `${d.position?.file}:${d.position?.line}:${d.position?.col} ${d.code} ${d.path}: ${d.message}`);
    assert.deepEqual(lines, [
      'fixtures/database-features/project.yaml:17:31 MR_CONFIG_UNSUPPORTED_FEATURE collections[0].indexes[0].type: the text index "search" of collection "articles" needs the "text" feature (text indexes and $text search), which database "local" (kind embedded) does not offer',
      'fixtures/database-features/project.yaml:18:100 MR_CONFIG_UNSUPPORTED_FEATURE collections[0].indexes[1].expireAfterSeconds: the TTL index "expiry" of collection "articles" needs the "ttl" feature (TTL indexes (documents expire after expireAfterSeconds)), which database "local" (kind embedded) does not offer',
    ]);
    assert.equal(diagnostics[0]?.hint, 'put the collection in a database of kind embedded or mongodb, or remove the index');
  });

  it('accepts the same descriptor with the real features table (both kinds offer text, geo and TTL)', async () => {
    const { diagnostics } = await loadProject(fixture, { cwd, env: {}, rules: databaseRules });
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  });

  it('is one of the rules the loader runs by default', () => {
    assert.ok(RULES.some((rule) => rule.name === 'database-features'));
  });
});
