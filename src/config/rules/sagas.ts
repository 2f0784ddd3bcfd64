/**
 * Rules for `sagas:` (flow-manager.md §2: Mia does not check its machines; mia-run does, with positions):
 * databases, states (duplicates, unknown targets with "did you mean", unreachable, dead ends, final states
 * with transitions, the same event twice), business states and events, channels (declared, able to send,
 * topics declared in `bus.topics`, policies declared) and timers (a duration, an event the state handles).
 */
import { didYouMean } from '../diagnostics.js';
import type { Path } from '../locate.js';
import type { SagaConfig } from '../sections/sagas.js';
import type { Diagnostic } from '../types.js';
import { parseDuration } from '../units.js';
import { policyKinds } from './policies.js';
import type { ConfigRule, RuleContext } from './rule.js';

type Report = (path: Path, code: Diagnostic['code'], message: string, extra?: { hint?: string; severity?: 'warning'; target?: 'key' }) => void;

function checkStates(name: string, saga: SagaConfig, report: Report): void {
  const def = saga.machineDefinition;
  const base: Path = ['sagas', name, 'machineDefinition'];
  const ids = new Map<string, number>();
  def.states.forEach((state, i) => {
    if (ids.has(state.id)) report([...base, 'states', i, 'id'], 'MR_CONFIG_DUPLICATE', `state "${state.id}" is already declared at states[${ids.get(state.id)}]`);
    else ids.set(state.id, i);
    if (/[.#]/.test(state.id)) report([...base, 'states', i, 'id'], 'MR_CONFIG_INVALID_VALUE', `state id "${state.id}" may not contain "." or "#"`);
  });
  if (!ids.has(def.initialState)) {
    report([...base, 'initialState'], 'MR_CONFIG_UNKNOWN_REF', `initialState "${def.initialState}" is not a state${didYouMean(def.initialState, ids.keys())}`);
  }
  const businessStates = new Set((def.businessStates ?? []).map((b) => b.id));
  const businessEvents = new Set((def.businessEvents ?? []).map((b) => b.id));
  const edges = new Map<string, string[]>();
  def.states.forEach((state, i) => {
    const at: Path = [...base, 'states', i];
    const transitions = state.outgoingTransitions ?? [];
    if (state.businessStateId !== undefined && def.businessStates !== undefined && !businessStates.has(state.businessStateId)) {
      report([...at, 'businessStateId'], 'MR_CONFIG_UNKNOWN_REF', `businessStateId ${state.businessStateId} is not in businessStates`);
    }
    if (state.isFinal === true && transitions.length > 0) {
      report([...at, 'outgoingTransitions'], 'MR_CONFIG_INVALID_VALUE', `final state "${state.id}" has outgoing transitions`, { hint: 'a final state ends the saga; remove the transitions or set isFinal: false', target: 'key' });
    }
    if (state.isFinal === true && state.timeout !== undefined) report([...at, 'timeout'], 'MR_CONFIG_INVALID_VALUE', `final state "${state.id}" has a timeout`, { target: 'key' });
    if (state.isFinal !== true && transitions.length === 0) {
      report([...at, 'id'], 'MR_CONFIG_INVALID_VALUE', `state "${state.id}" is not final and has no outgoing transitions: a saga there waits forever`, { hint: 'add outgoingTransitions or set isFinal: true' });
    }
    const seen = new Map<string, number>();
    transitions.forEach((t, j) => {
      const tp: Path = [...at, 'outgoingTransitions', j];
      if (!ids.has(t.targetState)) report([...tp, 'targetState'], 'MR_CONFIG_UNKNOWN_REF', `targetState "${t.targetState}" is not a state${didYouMean(t.targetState, ids.keys())}`);
      if (t.businessEventId !== undefined && !businessEvents.has(t.businessEventId)) {
        report([...tp, 'businessEventId'], 'MR_CONFIG_UNKNOWN_REF', `businessEventId ${t.businessEventId} is not in businessEvents`);
      }
      const previous = seen.get(t.inputEvent);
      if (previous !== undefined && transitions[previous]?.when === undefined) {
        report([...tp, 'inputEvent'], 'MR_CONFIG_DUPLICATE', `state "${state.id}" already handles "${t.inputEvent}" at outgoingTransitions[${previous}]`, { hint: 'to choose between targets by payload, give every transition but the last a `when` schema' });
      }
      seen.set(t.inputEvent, j);
    });
    if (state.timeout !== undefined) {
      if (parseDuration(state.timeout.after) === undefined) report([...at, 'timeout', 'after'], 'MR_CONFIG_INVALID_VALUE', `${JSON.stringify(state.timeout.after)} is not a duration`);
      if (!seen.has(state.timeout.event)) {
        report([...at, 'timeout', 'event'], 'MR_CONFIG_UNKNOWN_REF', `timeout event "${state.timeout.event}" has no outgoing transition in state "${state.id}"${didYouMean(state.timeout.event, seen.keys())}`);
      }
    }
    edges.set(state.id, transitions.map((t) => t.targetState));
  });
  const reached = new Set<string>();
  const queue = ids.has(def.initialState) ? [def.initialState] : [];
  while (queue.length > 0) {
    const id = queue.pop() as string;
    if (reached.has(id)) continue;
    reached.add(id);
    queue.push(...(edges.get(id) ?? []).filter((t) => ids.has(t)));
  }
  if (reached.size > 0) {
    for (const [id, i] of ids) {
      if (!reached.has(id)) report([...base, 'states', i, 'id'], 'MR_CONFIG_INVALID_VALUE', `state "${id}" is unreachable from initialState "${def.initialState}"`, { severity: 'warning' });
    }
  }
}

function checkChannels(ctx: RuleContext, name: string, saga: SagaConfig, report: Report): void {
  const channels = saga.channels ?? {};
  const topics = Object.keys(ctx.config.bus.topics);
  const policies = policyKinds(ctx.config.policies);
  for (const [channelName, channel] of Object.entries(channels)) {
    const at: Path = ['sagas', name, 'channels', channelName];
    if (channel.kind === 'bus') {
      for (const field of ['commands', 'events'] as const) {
        const topic = channel[field];
        if (topic !== undefined && !topics.includes(topic)) {
          report([...at, field], 'MR_CONFIG_UNKNOWN_REF', `topic "${topic}" is not declared in bus.topics${didYouMean(topic, topics)}`, { hint: 'declare it under bus.topics so it exists on every backend' });
        }
      }
    } else {
      (channel.policies ?? []).forEach((policy, i) => {
        if (!policies.has(policy)) report([...at, 'policies', i], 'MR_CONFIG_UNKNOWN_REF', `"${policy}" is not a declared policy${didYouMean(policy, policies.keys())}`);
      });
    }
  }
  saga.machineDefinition.states.forEach((state, i) => {
    const commands: [Path, { channel: string; label: string }][] = [];
    if (state.outputCommand) commands.push([['outputCommand'], state.outputCommand]);
    (state.sideEffects ?? []).forEach((c, k) => commands.push([['sideEffects', k], c]));
    for (const [rel, command] of commands) {
      const path: Path = ['sagas', name, 'machineDefinition', 'states', i, ...rel, 'channel'];
      const channel = channels[command.channel];
      if (channel === undefined) {
        const declared = Object.keys(channels);
        report(path, 'MR_CONFIG_UNKNOWN_REF', `channel "${command.channel}" is not declared in sagas.${name}.channels${didYouMean(command.channel, declared)}`, {
          hint: declared.length === 0 ? 'declare it under channels: { kind: bus, commands: <topic>, events: <topic> } or { kind: http, url }' : `declared channels: ${declared.join(', ')}`,
        });
      } else if (channel.kind === 'bus' && channel.commands === undefined) {
        report(path, 'MR_CONFIG_INVALID_VALUE', `command "${command.label}" uses channel "${command.channel}", which has no commands topic`);
      }
    }
  });
}

export const sagaDefinitions: ConfigRule = {
  name: 'saga-definitions',
  check: (ctx) => {
    const found: Diagnostic[] = [];
    for (const [name, saga] of Object.entries(ctx.config.sagas)) {
      const report: Report = (path, code, message, extra = {}) =>
        found.push(ctx.report({ code, path, message, ...(extra.hint === undefined ? {} : { hint: extra.hint }), ...(extra.severity ? { severity: extra.severity } : {}), ...(extra.target ? { target: extra.target } : {}) }));
      const database = saga.database ?? 'default';
      if (ctx.config.databases[database] === undefined) {
        report(['sagas', name, 'database'], 'MR_CONFIG_UNKNOWN_REF', `"${database}" is not a declared database${didYouMean(database, Object.keys(ctx.config.databases))}`);
      }
      checkStates(name, saga, report);
      checkChannels(ctx, name, saga, report);
    }
    return found;
  },
};

export const sagaRules: readonly ConfigRule[] = [sagaDefinitions];
