import { FORBIDDEN_KEYS, type AclNode, type Literal } from './parser.js';

/** What an ACL expression sees of the caller (built from the identity once per request). */
export interface AclSubject {
  readonly groups: readonly string[];
  readonly permissions: readonly string[];
  /** User properties (token claims, userinfo); `user.id` falls back to the user id. */
  readonly user: Readonly<Record<string, unknown>>;
  readonly userId?: string;
  readonly clientType?: string;
  readonly isBackoffice: boolean;
}

type Evaluator = (subject: AclSubject) => unknown;

/** Own enumerable data only: never the prototype chain, never accessors of exotic objects. */
function ownValue(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || FORBIDDEN_KEYS.has(key)) return undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

const isPrimitive = (v: unknown): v is Literal | undefined | null =>
  v === undefined || v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function compareValues(op: string, a: unknown, b: unknown): boolean {
  if (op === '==' || op === '!=') {
    // Only primitives compare; an object or list is never equal to anything (no coercion, no identity).
    const equal = isPrimitive(a) && isPrimitive(b) && a === b;
    return op === '==' ? equal : !equal;
  }
  const comparable = (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
  if (!comparable) return false;
  const [x, y] = [a as number | string, b as number | string];
  return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
}

/** Turns the AST into nested closures once (no eval, no Function); each request only calls them. */
export function compileNode(node: AclNode): Evaluator {
  switch (node.type) {
    case 'literal': {
      const { value } = node;
      return () => value;
    }
    case 'list': {
      const items = node.items;
      return () => items;
    }
    case 'path': {
      const [first, ...rest] = node.keys;
      switch (node.root) {
        case 'groups':
          return first === undefined ? (s) => s.groups : (s) => s.groups.includes(first);
        case 'permissions':
          return first === undefined ? (s) => s.permissions : (s) => s.permissions.includes(first);
        case 'clientType':
          return (s) => s.clientType;
        case 'isBackoffice':
          return (s) => s.isBackoffice;
        case 'user':
          return (s) => {
            let value = ownValue(s.user, first!);
            if (value === undefined && first === 'id') value = s.userId;
            for (const key of rest) value = ownValue(value, key);
            return value;
          };
      }
      break;
    }
    case 'not': {
      const operand = compileNode(node.operand);
      return (s) => operand(s) !== true;
    }
    case 'and': {
      const [left, right] = [compileNode(node.left), compileNode(node.right)];
      return (s) => left(s) === true && right(s) === true;
    }
    case 'or': {
      const [left, right] = [compileNode(node.left), compileNode(node.right)];
      return (s) => left(s) === true || right(s) === true;
    }
    case 'compare': {
      const [left, right, op] = [compileNode(node.left), compileNode(node.right), node.op];
      return (s) => compareValues(op, left(s), right(s));
    }
    case 'in': {
      const [left, right] = [compileNode(node.left), compileNode(node.right)];
      // `["a","b"] in groups` means any of them (Mia).
      return (s) => {
        const haystack = right(s);
        if (!Array.isArray(haystack)) return false;
        const needle = left(s);
        return Array.isArray(needle) ? needle.some((n) => haystack.includes(n)) : haystack.includes(needle);
      };
    }
  }
}
