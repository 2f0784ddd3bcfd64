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

  it('reports command mistakes with positions: unknown emitted events, emits + handler, guards, reserved names, input schemas', async () => {
    const file = fileURLToPath(new URL('fixtures/invalid-commands/project.yaml', import.meta.url));
    const { config, diagnostics } = await loadProject(file, { cwd, env: {} });
    assert.equal(config, undefined);
    assert.deepEqual(diagnostics.map((d) => `${d.position?.line}:${d.position?.col} ${d.code} ${d.path}: ${d.message}`), [
      '9:22 MR_CONFIG_UNKNOWN_REF aggregates.account.commands.open.emits: "Opend" is not an event type of this aggregate; did you mean "Opened"?',
      '10:36 MR_CONFIG_INVALID_VALUE aggregates.account.commands.deposit.handler: command "deposit" has both `emits` and `handler`; declare one',
      '11:82 MR_CONFIG_INVALID_VALUE aggregates.account.commands.withdraw.guards[0]: a guard compares with exactly one of eq, ne, gt, gte, lt, lte; found gte, lt',
      '12:7 MR_CONFIG_INVALID_VALUE aggregates.account.commands.events: a command cannot be named "events": `POST {basePath}/{id}/events` is the raw append route',
      '13:7 MR_CONFIG_MISSING_KEY aggregates.account.commands.audit: command "audit" has neither `emits` nor `handler`',
      '13:16 MR_CONFIG_INVALID_VALUE aggregates.account.commands.audit.input: the input schema of command "audit" is not a valid JSON Schema: schema is invalid: data/type must be equal to one of the allowed values, data/type must be array, data/type must match a schema in anyOf',
      '13:50 MR_CONFIG_INVALID_VALUE aggregates.account.commands.audit.guards[0]: a guard compares with exactly one of eq, ne, gt, gte, lt, lte; found none',
    ]);
  });

  it('reports a command handler that is not an exported function, at its position', async () => {
    const file = fileURLToPath(new URL('fixtures/missing-handler/project.yaml', import.meta.url));
    const { diagnostics } = await loadProject(file, { cwd, env: {} });
    assert.deepEqual(diagnostics.map((d) => `${d.position?.line}:${d.position?.col} ${d.code} ${d.path}: ${d.message} (${d.hint ?? ''})`), [
      '8:75 MR_CONFIG_CODE_HOOK aggregates.account.commands.open.handler.export: module "../invalid-commands/handlers.js" has no export "open" (functions it exports: deposit)',
    ]);
  });

  it('accepts the bank example', async () => {
    const { diagnostics } = await loadProject(bank, { cwd, env: {} });
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  });

  it('is one of the rules the loader runs by default', () => {
    assert.ok(RULES.some((rule) => rule.name === 'aggregate-definitions'));
  });
});
