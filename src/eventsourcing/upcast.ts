/**
 * Schema evolution: a stored event keeps the schema version it was written with; reading it runs the
 * declared upcasters one version at a time (`from: n` moves data from n to n + 1) up to the event type's
 * current version, so old events still fold. Declarative steps (rename, defaults, remove) run first, then
 * the optional code hook.
 */
import type { AggregateEventDefinition } from '../config/sections/aggregates.js';
import { MiaRunError } from '../errors.js';
import { getPath, setPath, unsetPath, type State } from './fold.js';

/** A code upcaster: `(data, { type, fromVersion }) => data`. */
export type UpcastHook = (data: State, info: { readonly type: string; readonly fromVersion: number }) => State;

/** Data of `type` at `schemaVersion` → data at the current version. */
export type Upcaster = (type: string, schemaVersion: number, data: Readonly<State>) => Readonly<State>;

/** Hooks by `<type>:<from>`, resolved at start. */
export type UpcastHooks = ReadonlyMap<string, UpcastHook>;

export function compileUpcaster(events: Readonly<Record<string, AggregateEventDefinition>>, hooks: UpcastHooks = new Map()): Upcaster {
  return (type, schemaVersion, data) => {
    const definition = events[type];
    const current = definition?.version ?? 1;
    if (definition === undefined || schemaVersion >= current) return data;
    let next = structuredClone(data) as State;
    for (let from = schemaVersion; from < current; from++) {
      const step = definition.upcasters?.find((u) => u.from === from);
      if (step === undefined) {
        throw new MiaRunError('MR_ES_INVALID_COMMAND', `event "${type}" of schema version ${from} has no upcaster to version ${from + 1}`, { statusCode: 500 });
      }
      for (const [oldName, newName] of Object.entries(step.rename ?? {})) {
        const value = getPath(next, oldName);
        if (value !== undefined) {
          unsetPath(next, oldName);
          setPath(next, newName, value);
        }
      }
      for (const [field, value] of Object.entries(step.defaults ?? {})) if (getPath(next, field) === undefined) setPath(next, field, structuredClone(value));
      for (const field of step.remove ?? []) unsetPath(next, field);
      const hook = hooks.get(`${type}:${from}`);
      if (hook !== undefined) next = hook(next, { type, fromVersion: from });
    }
    return next;
  };
}
