import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadProject } from '../../../src/config/load-project.js';
import { RULES } from '../../../src/config/rules/index.js';

const cwd = fileURLToPath(new URL('.', import.meta.url));
const fixture = fileURLToPath(new URL('fixtures/invalid/project.yaml', import.meta.url));
const bank = fileURLToPath(new URL('../../../examples/bank/project.yaml', import.meta.url));

describe('rule aggregate-definitions', () => {
  it('reports unknown databases and topics with did-you-mean, invalid event schemas, fold references, upcaster gaps and read-model clashes, with positions', async () => {
    const { config, diagnostics } = await loadProject(fixture, { cwd, env: {} });
    assert.equal(config, undefined);
    const lines = diagnostics.map((d) => `${d.position?.line}:${d.position?.col} ${d.code} ${d.path}: ${d.message}`);
    assert.deepEqual(lines, [
      '10:15 MR_CONFIG_UNKNOWN_REF aggregates.account.database: "ledgr" is not a declared database; did you mean "ledger"?',
      '12:17 MR_CONFIG_INVALID_VALUE aggregates.account.events.Opened.schema: the schema of event "Opened" is not a valid JSON Schema: schema is invalid: data/properties/owner/type must be equal to one of the allowed values, data/properties/owner/type must be array, data/properties/owner/type must match a schema in anyOf',
      '14:18 MR_CONFIG_INVALID_VALUE aggregates.account.events.Deposited.version: event "Deposited" is at version 3 but has no upcaster from version 2',
      '16:71 MR_CONFIG_INVALID_VALUE aggregates.account.events.Deposited.upcasters[1].from: upcaster from version 4 of event "Deposited" is not older than its version 3',
      '19:9 MR_CONFIG_UNKNOWN_REF aggregates.account.state.on.Deposit: "Deposit" is not an event type of this aggregate; did you mean "Deposited"?',
      '20:23 MR_CONFIG_UNKNOWN_REF aggregates.account.publish.topic: topic "acount-events" is not declared in bus.topics; did you mean "account-events"?',
      '27:17 MR_CONFIG_MISSING_KEY aggregates.card.readModels[0].name: read model "balances" is fed by published events, but aggregate "card" has no publish.topic',
      '27:17 MR_CONFIG_DUPLICATE aggregates.card.readModels[0].name: read model "balances" is already declared at aggregates.account.readModels[0]',
    ]);
    assert.equal(diagnostics.find((d) => d.path.endsWith('publish.topic'))?.hint, 'declare it under bus.topics so it exists on every backend');
  });

  it('accepts the bank example', async () => {
    const { diagnostics } = await loadProject(bank, { cwd, env: {} });
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  });

  it('is one of the rules the loader runs by default', () => {
    assert.ok(RULES.some((rule) => rule.name === 'aggregate-definitions'));
  });
});
