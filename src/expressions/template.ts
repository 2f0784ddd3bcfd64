/**
 * Placeholders of BFF call paths (gateway.md §4): `{orderId}` reads a path parameter of the endpoint,
 * `{order.customerId}` a field of another call's result (which makes that call a dependency).
 */
export interface Template {
  /** Each placeholder as a dotted path (`['order', 'customerId']`). */
  readonly refs: readonly (readonly string[])[];
  /** Fills the placeholders (URL-encoded); throws a plain Error naming a placeholder without a value. */
  render(lookup: (ref: readonly string[]) => unknown): string;
}

const PLACEHOLDER = /\{([^{}]+)\}/g;

export function parseTemplate(text: string): Template {
  const parts: (string | readonly string[])[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    parts.push(text.slice(last, match.index));
    parts.push(match[1]!.trim().split('.'));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  const refs = parts.filter((p): p is readonly string[] => typeof p !== 'string');
  return {
    refs,
    render(lookup) {
      let out = '';
      for (const part of parts) {
        if (typeof part === 'string') {
          out += part;
          continue;
        }
        const value = lookup(part);
        if (value === undefined || value === null || typeof value === 'object') throw new Error(`{${part.join('.')}} has no value`);
        out += encodeURIComponent(String(value));
      }
      return out;
    },
  };
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Own-property walk of a dotted path in a JSON value. */
export function readPath(value: unknown, keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (current === null || typeof current !== 'object' || FORBIDDEN.has(key) || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * Names of the calls a call depends on, and placeholders that are neither a call nor a path parameter
 * (shared by the runtime plan and the config rule).
 */
export function callDependencies(
  template: Template,
  callNames: ReadonlySet<string>,
  params: ReadonlySet<string>,
): { dependsOn: string[]; unknown: string[] } {
  const dependsOn = new Set<string>();
  const unknown: string[] = [];
  for (const ref of template.refs) {
    const head = ref[0]!;
    if (callNames.has(head) && !(ref.length === 1 && params.has(head))) dependsOn.add(head);
    else if (!(ref.length === 1 && params.has(head))) unknown.push(ref.join('.'));
  }
  return { dependsOn: [...dependsOn], unknown };
}

/** Path parameter names of a base path (`/bff/:orderId` → orderId). */
export function pathParams(basePath: string): Set<string> {
  return new Set(basePath.split('/').filter((s) => s.startsWith(':')).map((s) => s.slice(1)));
}

/** The first dependency cycle among calls, as a list of names ending where it started, or undefined. */
export function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const s = state.get(name);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of graph.get(name) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of graph.keys()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}
