/**
 * A saga definition as a Mermaid state diagram (`mia-run saga graph`): transitions labelled with their input
 * event (and `[when]` for guarded ones), timers with their delay, commands as state notes, final states to
 * `[*]`, and compensation (states or transitions marked `compensation: true`, and the states those
 * transitions reach) drawn in a separate class.
 */
import type { SagaConfig } from '../config/sections/sagas.js';

function nodeId(id: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(id) ? id : `s_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

function label(text: string): string {
  return text.replace(/[:;#\n]/g, ' ');
}

/**
 * @example
 * sagaToMermaid('checkout', config.sagas.checkout)
 * // stateDiagram-v2\n  [*] --> created : orderCreated\n  ...
 */
export function sagaToMermaid(name: string, config: SagaConfig): string {
  const def = config.machineDefinition;
  const lines = ['---', `title: saga ${label(name)}`, '---', 'stateDiagram-v2'];
  const compensation = new Set(def.states.filter((s) => s.compensation === true).map((s) => s.id));
  for (const state of def.states) {
    const id = nodeId(state.id);
    if (id !== state.id) lines.push(`  state "${label(state.id)}" as ${id}`);
  }
  lines.push(`  [*] --> ${nodeId(def.initialState)} : ${label(def.creationEvent)}`);
  for (const state of def.states) {
    const from = nodeId(state.id);
    for (const t of state.outgoingTransitions ?? []) {
      const timer = state.timeout?.event === t.inputEvent ? ` (after ${String(state.timeout.after)})` : '';
      const guard = t.when === undefined ? '' : ' [when]';
      lines.push(`  ${from} --> ${nodeId(t.targetState)} : ${label(t.inputEvent)}${guard}${timer}`);
      if (t.compensation === true) compensation.add(t.targetState);
    }
    const commands = [...(state.outputCommand ? [state.outputCommand] : []), ...(state.sideEffects ?? [])];
    for (const c of commands) lines.push(`  ${from} : ${label(c.label)} via ${label(c.channel)}`);
    if (state.isFinal === true) lines.push(`  ${from} --> [*]`);
  }
  if (compensation.size > 0) {
    lines.push('  classDef compensation fill:#fde2e2,stroke:#b00020,color:#000');
    for (const id of compensation) lines.push(`  class ${nodeId(id)} compensation`);
  }
  return `${lines.join('\n')}\n`;
}
