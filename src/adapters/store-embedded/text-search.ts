/**
 * `$text` on the embedded store: a simple tokenizer (Unicode letters and digits, lower-cased, diacritics
 * folded, English stop words dropped unless the language is `none`), terms OR-ed, `"quoted phrases"` required,
 * `-term` excluded. Score: for each matched term and field, `weight * (0.5 + 0.5 * occurrences / tokens)`,
 * summed; it orders results like MongoDB's (more and denser matches first) without matching its exact values.
 */
import { MiaRunError } from '../../errors.js';
import type { Document, IndexSpec } from '../../ports/document-store.js';
import { valuesAtPath } from './index-entries.js';

const STOP_WORDS = new Set(
  'a an and are as at be but by for from has have if in into is it its of on or that the their then there these they this to was were will with'.split(' '),
);

export interface TextQuery {
  readonly terms: readonly string[];
  readonly phrases: readonly string[];
  readonly excluded: readonly string[];
  readonly caseSensitive: boolean;
  readonly language: string;
}

function fold(text: string, caseSensitive: boolean, diacriticSensitive = false): string {
  const t = diacriticSensitive ? text : text.normalize('NFD').replace(/\p{M}/gu, '');
  return caseSensitive ? t : t.toLowerCase();
}

export function tokenize(text: string, query: Pick<TextQuery, 'caseSensitive' | 'language'>): string[] {
  const tokens = fold(text, query.caseSensitive).match(/[\p{L}\p{N}]+/gu) ?? [];
  return query.language === 'none' ? tokens : tokens.filter((t) => !STOP_WORDS.has(t.toLowerCase()));
}

/** Parses the `$text` operand `{ $search, $language?, $caseSensitive?, $diacriticSensitive? }`. */
export function parseTextQuery(operand: unknown, index: IndexSpec): TextQuery {
  const op = operand as Record<string, unknown> | null;
  if (op === null || typeof op !== 'object' || typeof op.$search !== 'string') {
    throw new MiaRunError('MR_STORE_INVALID_QUERY', '$text needs { $search: string }');
  }
  const caseSensitive = op.$caseSensitive === true;
  const language = typeof op.$language === 'string' ? op.$language : (index.defaultLanguage ?? 'english');
  const phrases: string[] = [];
  const rest = op.$search.replace(/"([^"]*)"/g, (_m, phrase: string) => {
    if (phrase.trim() !== '') phrases.push(fold(phrase, caseSensitive));
    return ' ';
  });
  const terms: string[] = [];
  const excluded: string[] = [];
  for (const word of rest.split(/\s+/)) {
    if (word === '') continue;
    const target = word.startsWith('-') ? excluded : terms;
    target.push(...tokenize(word.replace(/^-/, ''), { caseSensitive, language }));
  }
  for (const phrase of phrases) terms.push(...tokenize(phrase, { caseSensitive, language }));
  return { terms: [...new Set(terms)], phrases, excluded, caseSensitive, language };
}

/** Text fields of the index with weights (`$**` indexes every string field). */
function weightedFields(index: IndexSpec): [string, number][] {
  return Object.entries(index.key)
    .filter(([, kind]) => kind === 'text')
    .map(([field]) => [field, index.weights?.[field] ?? 1]);
}

function strings(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value !== null && typeof value === 'object' && !(value instanceof Date)) Object.values(value).forEach((v) => strings(v, out));
}

/** The score of `doc` for the query, or 0 when it does not match. */
export function textScore(doc: Document, index: IndexSpec, query: TextQuery): number {
  let score = 0;
  const all: string[] = [];
  for (const [field, weight] of weightedFields(index)) {
    const texts: string[] = [];
    if (field === '$**') strings(doc, texts);
    else for (const v of valuesAtPath(doc, field)) strings(v, texts);
    for (const text of texts) {
      all.push(fold(text, query.caseSensitive));
      const tokens = tokenize(text, query);
      if (tokens.length === 0) continue;
      for (const term of query.terms) {
        const n = tokens.filter((t) => t === term).length;
        if (n > 0) score += weight * (0.5 + (0.5 * n) / tokens.length);
      }
    }
  }
  if (score === 0) return 0;
  const haystack = all.join('\n');
  if (query.phrases.some((p) => !haystack.includes(p))) return 0;
  if (query.excluded.length > 0) {
    const tokens = new Set(tokenize(haystack, query));
    if (query.excluded.some((t) => tokens.has(t))) return 0;
  }
  return score;
}
