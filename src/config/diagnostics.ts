/**
 * Small helpers shared by the pipeline phases to build diagnostics and "did you mean" suggestions.
 */
import type { ErrorCode } from '../errors.js';
import type { Diagnostic, Severity, SourcePosition } from './types.js';

export interface DiagnosticInput {
  readonly code: ErrorCode;
  readonly message: string;
  readonly path?: string;
  readonly hint?: string;
  readonly position?: SourcePosition;
  readonly severity?: Severity;
}

/** A diagnostic with defaults: severity `error`, root path. */
export function diagnostic(input: DiagnosticInput): Diagnostic {
  return {
    code: input.code,
    severity: input.severity ?? 'error',
    message: input.message,
    path: input.path ?? '',
    ...(input.hint === undefined ? {} : { hint: input.hint }),
    ...(input.position === undefined ? {} : { position: input.position }),
  };
}

/** Path segments (`['endpoints', 2, 'target']`) as the dotted form users read (`endpoints[2].target`). */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Levenshtein distance, bounded work for the short names of a descriptor. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The candidate closest to `name`, or undefined when nothing is close enough to be a plausible typo
 * (case-insensitive; at most a third of the longer word may differ, minimum 2 edits).
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const candidate of candidates) {
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(name.length, best.length) / 3));
  return bestDistance <= limit ? best : undefined;
}

/** `; did you mean "x"?` or the empty string. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const suggestion = closest(name, candidates);
  return suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
}
