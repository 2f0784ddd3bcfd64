/**
 * Phase 3: environment variables. In every string value, `${VAR}` is replaced by the variable (an error
 * when it is unset), `${VAR:-default}` by the variable or the default when it is unset or empty, and
 * `${VAR:?message}` by the variable or an error carrying the message. `$${` writes a literal `${`.
 * Keys are never interpolated. Returns a fresh tree, plus the paths whose whole value was one expression
 * (the schema phase may turn those into numbers or booleans) and the paths that failed.
 */
import { diagnostic, formatPath } from './diagnostics.js';
import type { Path } from './locate.js';
import type { Diagnostic, SourcePosition } from './types.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface InterpolateResult {
  readonly value: unknown;
  /** Paths whose value was exactly one `${...}` expression. */
  readonly wholeValues: readonly Path[];
  /** Paths where a variable was missing or an expression malformed (the schema phase ignores them). */
  readonly failed: readonly Path[];
  readonly diagnostics: readonly Diagnostic[];
}

const EXPRESSION = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Substitution {
  readonly text: string;
  readonly whole: boolean;
  readonly problems: readonly { code: 'MR_CONFIG_ENV_MISSING' | 'MR_CONFIG_ENV_SYNTAX'; message: string; hint?: string }[];
}

/** Interpolates one string. */
export function interpolateString(input: string, env: Env): Substitution {
  const problems: Substitution['problems'][number][] = [];
  let count = 0;
  const text = input.replace(EXPRESSION, (match, body: string | undefined) => {
    if (match === '$${') return '${';
    count++;
    if (body === undefined) {
      problems.push({ code: 'MR_CONFIG_ENV_SYNTAX', message: `"${input}" has a "\${" without a closing "}"`, hint: 'write $${ for a literal "${"' });
      return match;
    }
    const op = /^([^:]*)(?::([-?])([\s\S]*))?$/.exec(body);
    const name = op?.[1] ?? '';
    if (!NAME.test(name)) {
      problems.push({ code: 'MR_CONFIG_ENV_SYNTAX', message: `"\${${body}}" is not a valid expression`, hint: 'use ${VAR}, ${VAR:-default} or ${VAR:?message}; names are letters, digits and _' });
      return match;
    }
    const value = env[name];
    const operator = op?.[2];
    const argument = op?.[3] ?? '';
    if (operator === '-') return value === undefined || value === '' ? argument : value;
    if (value !== undefined && (operator !== '?' || value !== '')) return value;
    problems.push(
      operator === '?' && argument !== ''
        ? { code: 'MR_CONFIG_ENV_MISSING', message: `environment variable ${name} is not set: ${argument}` }
        : { code: 'MR_CONFIG_ENV_MISSING', message: `environment variable ${name} is not set`, hint: `set ${name}, or give a default with \${${name}:-value}` },
    );
    return '';
  });
  const whole = count === 1 && /^\$\{[^}]*\}$/.test(input);
  return { text, whole, problems };
}

/**
 * Interpolates every string value of `value`; `position` places a path in its file. Values under a path
 * for which `skip` is true are kept as written.
 */
export function interpolate(value: unknown, env: Env, position: (path: Path) => SourcePosition, skip: (path: Path) => boolean = () => false): InterpolateResult {
  const wholeValues: Path[] = [];
  const failed: Path[] = [];
  const diagnostics: Diagnostic[] = [];
  // One path array, pushed and popped while walking; copied only where something is recorded.
  const path: (string | number)[] = [];
  const walk = (node: unknown): unknown => {
    if (skip(path)) return node;
    if (typeof node === 'string') {
      if (!node.includes('$')) return node;
      const result = interpolateString(node, env);
      if (result.problems.length > 0) {
        const at = [...path];
        failed.push(at);
        for (const p of result.problems) {
          diagnostics.push(diagnostic({ code: p.code, message: p.message, path: formatPath(at), position: position(at), ...(p.hint === undefined ? {} : { hint: p.hint }) }));
        }
      } else if (result.whole) wholeValues.push([...path]);
      return result.text;
    }
    if (Array.isArray(node)) {
      return node.map((item, i) => {
        path.push(i);
        const out = walk(item);
        path.pop();
        return out;
      });
    }
    if (typeof node === 'object' && node !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) {
        path.push(k);
        out[k] = walk(v);
        path.pop();
      }
      return out;
    }
    return node;
  };
  return { value: walk(value), wholeValues, failed, diagnostics };
}
