import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadProject } from '../../../src/config/load-project.js';
import type { Diagnostic } from '../../../src/config/types.js';

async function load(yaml: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'mia-run-saga-rules-'));
  try {
    await writeFile(join(dir, 'project.yaml'), yaml);
    const { diagnostics } = await loadProject(join(dir, 'project.yaml'), { cwd: dir, env: {} });
    return diagnostics.map((d: Diagnostic) => `${d.position ? `${d.position.line}:${d.position.col}` : '-'} ${d.severity} ${d.code} ${d.path}: ${d.message}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const INVALID = `version: 1
name: rules
bus:
  topics:
    order-commands: {}
sagas:
  order:
    database: ordrs
    channels:
      main: { kind: bus, commands: order-commands, events: order-evnts }
      web: { kind: http, url: "http://x", policies: [fastt] }
    machineDefinition:
      initialState: paymentRequested
      creationEvent: created
      businessStates: [{ id: 0 }]
      states:
        - id: paymentRequested
          businessStateId: 4
          outputCommand: { label: pay, channel: mian }
          timeout: { after: 15m, event: paymentTimedOut }
          outgoingTransitions:
            - { inputEvent: paid, targetState: shiped }
            - { inputEvent: paid, targetState: done }
        - id: done
          isFinal: true
          outgoingTransitions: [{ inputEvent: again, targetState: paymentRequested }]
        - id: done
          isFinal: true
        - id: orphan
          outgoingTransitions: [{ inputEvent: x, targetState: done }]
        - id: stuck
          isFinal: false
`;

describe('saga config rules', () => {
  it('reports each mistake of a machine with its position and a suggestion', async () => {
    const lines = await load(INVALID);
    const expected = [
      '8:15 error MR_CONFIG_UNKNOWN_REF sagas.order.database: "ordrs" is not a declared database',
      '10:60 error MR_CONFIG_UNKNOWN_REF sagas.order.channels.main.events: topic "order-evnts" is not declared in bus.topics',
      '11:54 error MR_CONFIG_UNKNOWN_REF sagas.order.channels.web.policies[0]: "fastt" is not a declared policy',
      '18:28 error MR_CONFIG_UNKNOWN_REF sagas.order.machineDefinition.states[0].businessStateId: businessStateId 4 is not in businessStates',
      '19:49 error MR_CONFIG_UNKNOWN_REF sagas.order.machineDefinition.states[0].outputCommand.channel: channel "mian" is not declared in sagas.order.channels; did you mean "main"?',
      '20:41 error MR_CONFIG_UNKNOWN_REF sagas.order.machineDefinition.states[0].timeout.event: timeout event "paymentTimedOut" has no outgoing transition in state "paymentRequested"',
      '22:48 error MR_CONFIG_UNKNOWN_REF sagas.order.machineDefinition.states[0].outgoingTransitions[0].targetState: targetState "shiped" is not a state',
      '23:29 error MR_CONFIG_DUPLICATE sagas.order.machineDefinition.states[0].outgoingTransitions[1].inputEvent: state "paymentRequested" already handles "paid" at outgoingTransitions[0]',
      '26:11 error MR_CONFIG_INVALID_VALUE sagas.order.machineDefinition.states[1].outgoingTransitions: final state "done" has outgoing transitions',
      '27:15 error MR_CONFIG_DUPLICATE sagas.order.machineDefinition.states[2].id: state "done" is already declared at states[1]',
      '29:15 warning MR_CONFIG_INVALID_VALUE sagas.order.machineDefinition.states[3].id: state "orphan" is unreachable from initialState "paymentRequested"',
      '31:15 error MR_CONFIG_INVALID_VALUE sagas.order.machineDefinition.states[4].id: state "stuck" is not final and has no outgoing transitions: a saga there waits forever',
    ];
    for (const e of expected) assert.ok(lines.some((l) => l.startsWith(e)), `missing: ${e}\ngot:\n${lines.join('\n')}`);
  });

  it('requires the creation event (schema) and suggests a close state name for initialState', async () => {
    const lines = await load(`version: 1
name: rules
sagas:
  order:
    machineDefinition:
      initialState: strat
      states:
        - { id: start, isFinal: true }
`);
    assert.ok(lines.some((l) => /MR_CONFIG_MISSING_KEY sagas\.order\.machineDefinition.*creationEvent/.test(l)), lines.join('\n'));
    const fixed = await load(`version: 1
name: rules
sagas:
  order:
    machineDefinition:
      initialState: strat
      creationEvent: created
      states:
        - { id: start, isFinal: true }
`);
    assert.ok(fixed.some((l) => l.startsWith('6:21 error MR_CONFIG_UNKNOWN_REF sagas.order.machineDefinition.initialState: initialState "strat" is not a state; did you mean "start"?')), fixed.join('\n'));
  });

  it('accepts the example project', async () => {
    const { diagnostics } = await loadProject(join(import.meta.dirname, '../../../examples/saga/project.yaml'), { env: {} });
    assert.deepEqual(diagnostics, []);
  });
});
