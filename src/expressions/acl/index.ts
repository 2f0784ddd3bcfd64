import { compileNode, type AclSubject } from './compile.js';
import { parse, type AclNode } from './parser.js';
import { AclSyntaxError } from './tokenizer.js';

export type { AclSubject } from './compile.js';
export type { AclNode } from './parser.js';
export { MAX_ACL_DEPTH, MAX_ACL_LENGTH } from './parser.js';

export type AclParseResult =
  | { readonly ok: true; readonly ast: AclNode; readonly evaluate: (subject: AclSubject) => boolean; readonly usesClientType: boolean }
  | { readonly ok: false; readonly message: string; readonly offset: number };

/**
 * Parses and compiles an ACL expression once (gateway.md §2). Never throws: a syntax error comes back with
 * the 0-based character `offset` so the config rule can turn it into `file:line:col`. `evaluate` is true
 * only when the expression yields exactly `true`; anything else (missing property, wrong type) denies.
 *
 * @example
 * const acl = parseAcl('groups.admin || user.tier == "gold"');
 * if (acl.ok) acl.evaluate({ groups: ['admin'], permissions: [], user: {}, isBackoffice: false }); // true
 */
export function parseAcl(text: string): AclParseResult {
  let ast: AclNode;
  try {
    ast = parse(text);
  } catch (error) {
    if (error instanceof AclSyntaxError) return { ok: false, message: `${error.message} (column ${error.offset + 1})`, offset: error.offset };
    // Only a stack overflow could get here despite the depth cap; report it as a syntax problem, not a crash.
    return { ok: false, message: 'expression too complex', offset: 0 };
  }
  const compiled = compileNode(ast);
  return { ok: true, ast, evaluate: (subject) => compiled(subject) === true, usesClientType: usesClientType(ast) };
}

/** True when the expression reads `clientType`: such an endpoint needs a client key (gateway.md §2). */
export function usesClientType(ast: AclNode): boolean {
  switch (ast.type) {
    case 'path':
      return ast.root === 'clientType';
    case 'not':
      return usesClientType(ast.operand);
    case 'and':
    case 'or':
    case 'compare':
    case 'in':
      return usesClientType(ast.left) || usesClientType(ast.right);
    default:
      return false;
  }
}
