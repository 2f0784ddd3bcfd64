/**
 * Tokens of the ACL expression language (gateway.md §2). Offsets are 0-based character positions in the
 * expression text, so a config rule can point a diagnostic at the exact column.
 */
export type TokenType = 'ident' | 'string' | 'number' | 'op' | 'punct' | 'end';

export interface Token {
  readonly type: TokenType;
  /** Identifier name, decoded string, number text, operator or punctuation. */
  readonly value: string;
  readonly offset: number;
}

export class AclSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'AclSyntaxError';
  }
}

const OPERATORS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '!'];
const PUNCT = new Set(['(', ')', '[', ']', '.', ',']);
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "'": "'", '\\': '\\', n: '\n', t: '\t' };
const IDENT_START = /[A-Za-z_$]/;
const IDENT_PART = /[A-Za-z0-9_$-]/;

/** Splits an expression into tokens; throws AclSyntaxError with the offset of the first bad character. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new AclSyntaxError('unterminated string', start);
        const d = text[i]!;
        if (d === c) break;
        if (d === '\\') {
          const escaped = ESCAPES[text[i + 1] ?? ''];
          if (escaped === undefined) throw new AclSyntaxError('unknown escape in string', i);
          value += escaped;
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      i++;
      tokens.push({ type: 'string', value, offset: start });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?/.exec(text.slice(i, i + 40))!;
      i += match[0].length;
      if (IDENT_PART.test(text[i] ?? '')) throw new AclSyntaxError('malformed number', start);
      tokens.push({ type: 'number', value: match[0], offset: start });
      continue;
    }
    if (IDENT_START.test(c)) {
      // `-` is allowed inside names (`groups.back-office`), as Mia group names often carry one.
      while (i < text.length && IDENT_PART.test(text[i]!)) i++;
      tokens.push({ type: 'ident', value: text.slice(start, i), offset: start });
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      tokens.push({ type: 'op', value: op, offset: start });
      i += op.length;
      continue;
    }
    if (PUNCT.has(c)) {
      tokens.push({ type: 'punct', value: c, offset: start });
      i++;
      continue;
    }
    throw new AclSyntaxError(`unexpected character ${JSON.stringify(c)}`, start);
  }
  tokens.push({ type: 'end', value: '', offset: text.length });
  return tokens;
}
