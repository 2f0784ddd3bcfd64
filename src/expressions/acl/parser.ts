import { AclSyntaxError, tokenize, type Token } from './tokenizer.js';

/**
 * Recursive-descent parser of ACL expressions (gateway.md §2, Mia's vocabulary):
 *
 *   expr    := and ('||' and)*
 *   and     := unary ('&&' unary)*
 *   unary   := '!' unary | compare
 *   compare := operand (('=='|'!='|'<'|'<='|'>'|'>=') operand | 'in' operand)?
 *   operand := STRING | NUMBER | 'true' | 'false' | list | path | '(' expr ')'
 *   list    := '[' (literal (',' literal)*)? ']'
 *   path    := ROOT ('.' NAME | '[' STRING ']')*      ROOT ∈ groups permissions clientType isBackoffice user
 *
 * Names that could reach an object prototype are refused here, and again by the evaluator's own-property lookups.
 */
export type Literal = string | number | boolean;
export type Root = 'groups' | 'permissions' | 'clientType' | 'isBackoffice' | 'user';
export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type AclNode =
  | { readonly type: 'literal'; readonly value: Literal; readonly offset: number }
  | { readonly type: 'list'; readonly items: readonly Literal[]; readonly offset: number }
  | { readonly type: 'path'; readonly root: Root; readonly keys: readonly string[]; readonly offset: number }
  | { readonly type: 'not'; readonly operand: AclNode; readonly offset: number }
  | { readonly type: 'and' | 'or'; readonly left: AclNode; readonly right: AclNode; readonly offset: number }
  | { readonly type: 'compare'; readonly op: CompareOp; readonly left: AclNode; readonly right: AclNode; readonly offset: number }
  | { readonly type: 'in'; readonly left: AclNode; readonly right: AclNode; readonly offset: number };

/** Longest expression accepted; ACLs are one-liners, this only stops abuse. */
export const MAX_ACL_LENGTH = 4096;
/** Deepest nesting of parentheses and `!`, so hostile input cannot exhaust the stack. */
export const MAX_ACL_DEPTH = 64;

const ROOTS: ReadonlySet<string> = new Set<Root>(['groups', 'permissions', 'clientType', 'isBackoffice', 'user']);
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const COMPARE_OPS: ReadonlySet<string> = new Set(['==', '!=', '<', '<=', '>', '>=']);

/** Parses an expression into an AST; throws AclSyntaxError with the offset of the problem. */
export function parse(text: string): AclNode {
  if (text.length > MAX_ACL_LENGTH) throw new AclSyntaxError(`expression longer than ${MAX_ACL_LENGTH} characters`, MAX_ACL_LENGTH);
  const tokens = tokenize(text);
  let pos = 0;
  let depth = 0;

  const peek = (): Token => tokens[pos]!;
  const next = (): Token => tokens[pos++]!;
  const is = (type: Token['type'], value?: string): boolean => peek().type === type && (value === undefined || peek().value === value);
  const describe = (t: Token): string => (t.type === 'end' ? 'end of expression' : `"${t.value}"`);
  const expect = (type: Token['type'], value: string): Token => {
    if (!is(type, value)) throw new AclSyntaxError(`expected "${value}" but found ${describe(peek())}`, peek().offset);
    return next();
  };
  const nest = <T>(offset: number, inner: () => T): T => {
    if (++depth > MAX_ACL_DEPTH) throw new AclSyntaxError(`expression nested deeper than ${MAX_ACL_DEPTH} levels`, offset);
    try {
      return inner();
    } finally {
      depth--;
    }
  };

  function expr(): AclNode {
    let left = and();
    while (is('op', '||')) {
      const { offset } = next();
      left = { type: 'or', left, right: and(), offset };
    }
    return left;
  }

  function and(): AclNode {
    let left = unary();
    while (is('op', '&&')) {
      const { offset } = next();
      left = { type: 'and', left, right: unary(), offset };
    }
    return left;
  }

  function unary(): AclNode {
    if (is('op', '!')) {
      const { offset } = next();
      return nest(offset, () => ({ type: 'not', operand: unary(), offset }));
    }
    return compare();
  }

  function compare(): AclNode {
    const left = operand();
    const t = peek();
    if (t.type === 'op' && COMPARE_OPS.has(t.value)) {
      next();
      return { type: 'compare', op: t.value as CompareOp, left, right: operand(), offset: t.offset };
    }
    if (t.type === 'ident' && t.value === 'in') {
      next();
      if (left.type !== 'literal' && left.type !== 'list') throw new AclSyntaxError('the left side of "in" must be a string or a list of strings', left.offset);
      const right = operand();
      if (right.type !== 'path' || right.root === 'clientType' || right.root === 'isBackoffice' || (right.root !== 'user' && right.keys.length > 0)) {
        throw new AclSyntaxError('the right side of "in" must be groups, permissions or a user property', right.offset);
      }
      return { type: 'in', left, right, offset: t.offset };
    }
    return left;
  }

  function operand(): AclNode {
    const t = next();
    switch (t.type) {
      case 'string':
        return { type: 'literal', value: t.value, offset: t.offset };
      case 'number':
        return { type: 'literal', value: Number(t.value), offset: t.offset };
      case 'ident':
        if (t.value === 'true' || t.value === 'false') return { type: 'literal', value: t.value === 'true', offset: t.offset };
        return path(t);
      case 'punct':
        if (t.value === '(') {
          return nest(t.offset, () => {
            const inner = expr();
            expect('punct', ')');
            return inner;
          });
        }
        if (t.value === '[') return list(t);
    }
    throw new AclSyntaxError(`unexpected ${describe(t)}`, t.offset);
  }

  function list(open: Token): AclNode {
    const items: Literal[] = [];
    if (!is('punct', ']')) {
      do {
        const item = next();
        if (item.type !== 'string' && item.type !== 'number') throw new AclSyntaxError(`a list holds strings or numbers, not ${describe(item)}`, item.offset);
        items.push(item.type === 'number' ? Number(item.value) : item.value);
      } while (is('punct', ',') && next());
    }
    expect('punct', ']');
    return { type: 'list', items, offset: open.offset };
  }

  function path(root: Token): AclNode {
    if (!ROOTS.has(root.value)) {
      throw new AclSyntaxError(`unknown name "${root.value}"; use groups, permissions, clientType, isBackoffice or user`, root.offset);
    }
    const keys: string[] = [];
    for (;;) {
      let key: Token;
      if (is('punct', '.')) {
        next();
        key = next();
        if (key.type !== 'ident') throw new AclSyntaxError(`expected a property name after "." but found ${describe(key)}`, key.offset);
      } else if (is('punct', '[')) {
        next();
        key = next();
        if (key.type !== 'string') throw new AclSyntaxError(`expected a quoted property name in [] but found ${describe(key)}`, key.offset);
        expect('punct', ']');
      } else break;
      if (FORBIDDEN_KEYS.has(key.value)) throw new AclSyntaxError(`"${key.value}" is not allowed as a property name`, key.offset);
      keys.push(key.value);
    }
    const name = root.value as Root;
    if ((name === 'clientType' || name === 'isBackoffice') && keys.length > 0) throw new AclSyntaxError(`${name} has no properties`, root.offset);
    if ((name === 'groups' || name === 'permissions') && keys.length > 1) throw new AclSyntaxError(`${name}.<name> takes one name`, root.offset);
    if (name === 'user' && keys.length === 0) throw new AclSyntaxError('use user.<property>', root.offset);
    return { type: 'path', root: name, keys, offset: root.offset };
  }

  const ast = expr();
  if (!is('end')) throw new AclSyntaxError(`unexpected ${describe(peek())}`, peek().offset);
  return ast;
}
