/** One difference between the legacy answer and the new target's. */
export interface Difference {
  /** Dotted path (`items.0.price`), `status`, or `header:<name>`. */
  readonly path: string;
  readonly legacy: unknown;
  readonly candidate: unknown;
}

const MAX_DIFFERENCES = 20;

/** Removes the ignored dotted paths (applied to every element when a path crosses an array). */
function strip(value: unknown, ignored: readonly (readonly string[])[]): unknown {
  if (ignored.length === 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => strip(v, ignored));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (ignored.some((p) => p.length === 1 && p[0] === key)) continue;
    const deeper = ignored.filter((p) => p.length > 1 && p[0] === key).map((p) => p.slice(1));
    out[key] = strip(v, deeper);
  }
  return out;
}

function walk(a: unknown, b: unknown, path: string, out: Difference[]): void {
  if (out.length >= MAX_DIFFERENCES) return;
  if (a === b) return;
  const bothObjects = a !== null && b !== null && typeof a === 'object' && typeof b === 'object';
  if (!bothObjects || Array.isArray(a) !== Array.isArray(b)) {
    out.push({ path: path || '(body)', legacy: a, candidate: b });
    return;
  }
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  for (const key of keys) walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path ? `${path}.${key}` : key, out);
}

export interface ComparedAnswer {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

function parse(body: string): { json: true; value: unknown } | { json: false } {
  try {
    return { json: true, value: JSON.parse(body) };
  } catch {
    return { json: false };
  }
}

/**
 * Compares two answers (gateway.md §6 shadow): status, the declared headers, and the body: as JSON with
 * the volatile fields removed when both parse, else as text. Returns the differences (empty = match).
 */
export function compareAnswers(
  legacy: ComparedAnswer,
  candidate: ComparedAnswer,
  options: { readonly ignoreFields?: readonly string[]; readonly compareHeaders?: readonly string[] },
): Difference[] {
  const out: Difference[] = [];
  if (legacy.statusCode !== candidate.statusCode) out.push({ path: 'status', legacy: legacy.statusCode, candidate: candidate.statusCode });
  for (const name of options.compareHeaders ?? []) {
    const key = name.toLowerCase();
    if (String(legacy.headers[key]) !== String(candidate.headers[key])) out.push({ path: `header:${key}`, legacy: legacy.headers[key], candidate: candidate.headers[key] });
  }
  const a = parse(legacy.body);
  const b = parse(candidate.body);
  if (a.json && b.json) {
    const ignored = (options.ignoreFields ?? []).map((f) => f.split('.'));
    walk(strip(a.value, ignored), strip(b.value, ignored), '', out);
  } else if (legacy.body !== candidate.body) {
    out.push({ path: '(body)', legacy: legacy.body.slice(0, 200), candidate: candidate.body.slice(0, 200) });
  }
  return out;
}
