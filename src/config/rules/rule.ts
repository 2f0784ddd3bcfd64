/**
 * The shape of a cross-reference rule (STYLE §6): a small named check over the normalized config that
 * returns diagnostics. Rules never throw and never do I/O; paths are those of the merged descriptor
 * (`['upstreams', 'legacy', 'policies', 0]`), which `ctx.report` turns into `file:line:col`.
 *
 * @example
 * export const topicRefs: ConfigRule = {
 *   name: 'collection-topics',
 *   check: (ctx) => ctx.config.collections.flatMap((c, i) => ...ctx.report({ code: 'MR_CONFIG_UNKNOWN_REF', path: ['collections', i, 'events', 'topic'], message: '...' })),
 * };
 */
import type { ErrorCode } from '../../errors.js';
import type { LocateTarget, Path } from '../locate.js';
import type { Diagnostic, ProjectConfig, Severity, SourcePosition } from '../types.js';

export interface ReportInput {
  readonly code: ErrorCode;
  /** Path in the merged descriptor. */
  readonly path: Path;
  readonly message: string;
  readonly hint?: string;
  readonly severity?: Severity;
  /** Point at the key (names) or the value (references; the default). */
  readonly target?: LocateTarget;
}

export interface RuleContext {
  readonly config: ProjectConfig;
  /** `file:line:col` of a path in the merged descriptor (its nearest written ancestor for defaults). */
  position(path: Path, target?: LocateTarget): SourcePosition;
  /** A diagnostic at `path`, with the dotted path and the position filled in. */
  report(input: ReportInput): Diagnostic;
}

export interface ConfigRule {
  /** Kebab-case name, for tests and docs. */
  readonly name: string;
  readonly check: (ctx: RuleContext) => readonly Diagnostic[];
}
