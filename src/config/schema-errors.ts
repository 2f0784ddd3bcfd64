/**
 * Turns ajv errors into diagnostics a user can act on, from each error's `params`: an unknown key points
 * at the key and suggests the closest valid one, a missing key points at its parent, a bad value says
 * what was expected (using the schema's own description for formats such as durations and URLs).
 */
import type { ErrorObject } from 'ajv';
import type { ErrorCode } from '../errors.js';
import { diagnostic, didYouMean, formatPath } from './diagnostics.js';
import type { LocateTarget, Locator, Path } from './locate.js';
import { pointerToPath } from './schema.js';
import type { Diagnostic } from './types.js';

const UNIT_NAMES: Readonly<Record<string, string>> = { duration: 'a duration', size: 'a size', percentage: 'a percentage', port: 'a port' };

const UNIT_HINTS: Readonly<Record<string, string>> = {
  duration: 'write milliseconds as a number, or a number with ms, s, m, h or d (for example 250ms, 2s, 15m)',
  size: 'write bytes as a number, or a number with b, kb, mb or gb (for example 512kb, 1mb)',
  percentage: 'write a number from 0 to 100, optionally followed by % (for example 50%)',
  port: 'a port is an integer from 0 to 65535',
};

/** The `$defs` entry an error comes from (`duration`, `size`, ...), when it is a unit. */
function unitOf(error: ErrorObject): string | undefined {
  const m = /#\/\$defs\/([A-Za-z]+)\//.exec(error.schemaPath);
  return m && m[1] !== undefined && m[1] in UNIT_NAMES ? m[1] : undefined;
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${show(value)}`;
  return `${typeof value} ${show(value)}`;
}

function expectedType(type: string): string {
  const names: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', null: 'null' };
  return type.split(',').map((t) => names[t] ?? t).join(' or ');
}

/** First sentence of a schema description, as a hint. */
function describe(schema: unknown): string | undefined {
  const text = (schema as { description?: unknown } | undefined)?.description;
  if (typeof text !== 'string') return undefined;
  return (text.split(/(?<=\.)\s/)[0] ?? text).replace(/`/g, '').replace(/\.$/, '');
}

interface Draft {
  readonly code: ErrorCode;
  readonly path: Path;
  readonly message: string;
  readonly hint?: string;
  readonly target?: LocateTarget;
}

function draft(error: ErrorObject, root: unknown): Draft | undefined {
  const path = pointerToPath(error.instancePath, root);
  const params = error.params as Record<string, unknown>;
  const unit = unitOf(error);
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return {
        code: 'MR_CONFIG_UNKNOWN_KEY',
        path: [...path, key],
        target: 'key',
        message: `"${key}" is not a known key${didYouMean(key, allowed)}`,
        ...(allowed.length > 0 ? { hint: `allowed keys here: ${allowed.join(', ')}` } : {}),
      };
    }
    case 'required':
      return { code: 'MR_CONFIG_MISSING_KEY', path, target: 'key', message: `missing required key "${String(params.missingProperty)}"` };
    case 'propertyNames':
      return {
        code: 'MR_CONFIG_SCHEMA',
        path: [...path, String(params.propertyName)],
        target: 'key',
        message: `"${String(params.propertyName)}" is not a valid name`,
        hint: 'names start with a letter and use letters, digits, "-" and "_"',
      };
    case 'false schema': {
      const key = path[path.length - 1];
      const parent = pointerToPath(error.instancePath.replace(/\/[^/]*$/, ''), root);
      let owner: unknown = root;
      for (const s of parent) owner = (owner as Record<string | number, unknown>)[s];
      const kind = (owner as { kind?: unknown } | undefined)?.kind;
      return {
        code: 'MR_CONFIG_UNKNOWN_KEY',
        path,
        target: 'key',
        message: `"${String(key)}" does not apply here`,
        hint: kind === undefined ? `it applies to another kind; set "kind"` : `it does not apply to kind "${String(kind)}"`,
      };
    }
    case 'type':
      return {
        code: 'MR_CONFIG_SCHEMA',
        path,
        message: `expected ${unit === undefined ? expectedType(String(params.type)) : UNIT_NAMES[unit]}, got ${typeName(error.data)}`,
        ...(unit === undefined ? {} : { hint: UNIT_HINTS[unit] }),
      };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      return { code: 'MR_CONFIG_SCHEMA', path, message: `${show(error.data)} is not one of ${allowed.join(', ')}${didYouMean(String(error.data), allowed)}` };
    }
    case 'const':
      return { code: 'MR_CONFIG_SCHEMA', path, message: `expected ${show(params.allowedValue)}, got ${show(error.data)}` };
    case 'pattern':
      if (unit !== undefined) return { code: 'MR_CONFIG_INVALID_VALUE', path, message: `${show(error.data)} is not ${UNIT_NAMES[unit]}`, hint: UNIT_HINTS[unit] };
      return { code: 'MR_CONFIG_SCHEMA', path, message: `${show(error.data)} does not have the expected form`, ...optionalHint(describe(error.parentSchema)) };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { code: 'MR_CONFIG_SCHEMA', path, message: `${show(error.data)} is out of range: ${error.message ?? ''}`, ...(unit === undefined ? {} : { hint: UNIT_HINTS[unit] }) };
    case 'minItems':
    case 'maxItems': {
      const limit = Number(params.limit);
      const word = `${limit} item${limit === 1 ? '' : 's'}`;
      return { code: 'MR_CONFIG_SCHEMA', path, message: error.keyword === 'minItems' ? `expected at least ${word}` : `expected at most ${word}` };
    }
    case 'minLength':
    case 'maxLength': {
      const limit = Number(params.limit);
      if (error.keyword === 'minLength' && limit === 1) return { code: 'MR_CONFIG_SCHEMA', path, message: 'must not be empty' };
      return { code: 'MR_CONFIG_SCHEMA', path, message: `expected ${error.keyword === 'minLength' ? 'at least' : 'at most'} ${limit} characters` };
    }
    case 'uniqueItems': {
      const items = error.data as unknown[];
      return { code: 'MR_CONFIG_DUPLICATE', path: [...path, Number(params.i)], message: `${show(items[Number(params.i)])} is listed twice` };
    }
    case 'minProperties':
    case 'maxProperties': {
      const limit = Number(params.limit);
      if (error.keyword === 'minProperties' && limit === 1) return { code: 'MR_CONFIG_SCHEMA', path, message: 'must not be empty', ...optionalHint(describe(error.parentSchema)) };
      return { code: 'MR_CONFIG_SCHEMA', path, message: `expected ${error.keyword === 'minProperties' ? 'at least' : 'at most'} ${limit} key${limit === 1 ? '' : 's'}` };
    }
    case 'dependencies':
    case 'dependentRequired':
      return { code: 'MR_CONFIG_MISSING_KEY', path, target: 'key', message: `"${String(params.property)}" needs "${String(params.missingProperty)}" too` };
    case 'format':
      return { code: 'MR_CONFIG_SCHEMA', path, message: `${show(error.data)} is not a valid ${String(params.format)}` };
    case 'not':
      return { code: 'MR_CONFIG_SCHEMA', path, message: 'this combination of keys is not allowed here', ...optionalHint(describe(error.parentSchema)) };
    case 'if':
    case 'allOf':
      return undefined; // the failing branch reports its own errors
    default:
      return { code: 'MR_CONFIG_SCHEMA', path, message: `${error.message ?? 'is not valid'}` };
  }
}

/**
 * A value that fails `oneOf`/`anyOf` gets errors from every alternative, most of them about forms the user
 * did not mean. Keep the errors of the alternative the value is closest to: the one whose constant
 * properties (`kind: bus`) match, else the one with the fewest errors.
 */
export function pickBranches(errors: readonly ErrorObject[]): ErrorObject[] {
  let kept = [...errors];
  for (const choice of errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')) {
    const branches = Array.isArray(choice.schema) ? (choice.schema as { $ref?: unknown }[]) : [];
    const within = (e: ErrorObject): boolean => e.instancePath === choice.instancePath || e.instancePath.startsWith(`${choice.instancePath}/`);
    const prefix = (i: number): string => (typeof branches[i]?.$ref === 'string' ? `${String(branches[i]?.$ref)}/` : `${choice.schemaPath}/${i}/`);
    const byBranch = branches.map((_, i) => kept.filter((e) => e !== choice && within(e) && e.schemaPath.startsWith(prefix(i))));
    if (byBranch.every((list) => list.length === 0)) {
      continue; // several alternatives matched: the choice error itself is the message
    }
    const score = (list: ErrorObject[]): number => list.filter((e) => e.keyword === 'const').length * 1000 + list.length;
    let best = 0;
    byBranch.forEach((list, i) => {
      if (score(list) < score(byBranch[best] ?? [])) best = i;
    });
    const dropped = new Set(byBranch.flatMap((list, i) => (i === best ? [] : list)));
    dropped.add(choice);
    kept = kept.filter((e) => !dropped.has(e));
  }
  return kept;
}

function optionalHint(hint: string | undefined): { hint?: string } {
  return hint === undefined ? {} : { hint };
}

/**
 * Diagnostics for ajv `errors` on `root`, positioned with `locator`. Errors at or below a path in
 * `ignored` (values whose interpolation already failed) are dropped, and so are duplicates.
 */
export function schemaDiagnostics(errors: readonly ErrorObject[], root: unknown, locator: Locator, ignored: readonly Path[] = []): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const error of pickBranches(errors)) {
    // ajv reports a bad property name twice: once as the inner keyword, once as `propertyNames`.
    if (error.propertyName !== undefined) continue;
    const d = draft(error, root);
    if (d === undefined) continue;
    if (ignored.some((p) => p.length <= d.path.length && p.every((s, i) => String(s) === String(d.path[i])))) continue;
    const path = formatPath(d.path);
    const key = `${path}\u0000${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(diagnostic({ code: d.code, path, message: d.message, position: locator.position(d.path, d.target), ...(d.hint === undefined ? {} : { hint: d.hint }) }));
  }
  return out;
}
