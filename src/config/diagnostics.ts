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

/**
 * Edit distance counting an insertion, deletion, substitution or swap of two neighbours as one edit
 * (optimal string alignment), so the usual typos (`fats`, `kafak`, `prot`) are one edit away.
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((rows[i - 1]![j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (rows[i - 1]![j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (rows[i - 2]![j - 2] ?? 0) + 1);
      row[j] = best;
    }
    rows.push(row);
  }
  return rows[a.length]![b.length] ?? 0;
}

/**
 * The candidate closest to `name`, or undefined when nothing is close enough to be a plausible typo
 * (case-insensitive; 1 edit for names up to 4 characters, 2 up to 8, 3 beyond).
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
  const length = Math.max(name.length, best.length);
  const limit = length <= 4 ? 1 : length <= 8 ? 2 : 3;
  return bestDistance <= limit ? best : undefined;
}

/** `; did you mean "x"?` or the empty string. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const suggestion = closest(name, candidates);
  return suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
}
