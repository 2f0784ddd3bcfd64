/**
 * Rules for the change-event topics of `fastData:` (fast-data.md §4), each with a position: pr-update,
 * sv-trigger and external pr-update topics must be declared in `bus.topics`; an external projection is not
 * written here, so it cannot publish pr-updates; `includeBeforeAfter` only means something for sv-update v1;
 * SV chaining must not loop (a view may read another view as a projection, never itself through others).
 * `withChainedViews` lets the reference rules accept a view name where a projection is expected.
 */
import { didYouMean } from '../diagnostics.js';
import type { Path } from '../locate.js';
import type { FastDataConfig, SingleViewConfig } from '../sections/fast-data.js';
import type { Diagnostic } from '../types.js';
import type { ConfigRule, RuleContext } from './rule.js';

/** Fields a view offers to a view that reads it: its aggregation's top-level fields and its key. */
function viewFields(view: SingleViewConfig): string[] {
  return [...new Set([...Object.keys(view.aggregation ?? {}), ...Object.keys(view.key)])];
}

/**
 * `fields` (projection → field names) plus every other single view as a projection (SV chaining), for the
 * references of view `except`. Projections win over views of the same name (reported elsewhere).
 */
export function withChainedViews(fastData: FastDataConfig | undefined, fields: ReadonlyMap<string, string[]>, except: string): Map<string, string[]> {
  const out = new Map(fields);
  for (const [name, view] of Object.entries(fastData?.singleViews ?? {})) if (name !== except && !out.has(name)) out.set(name, viewFields(view));
  return out;
}

/** Projection and view names a view reads (key, base, relations, joins). */
export function readsOf(view: SingleViewConfig): Set<string> {
  const out = new Set<string>();
  const add = (ref: string): void => void out.add(ref.split('.')[0]!);
  for (const ref of Object.values(view.key)) add(ref);
  if (view.base !== undefined) out.add(view.base);
  for (const r of view.relations ?? []) for (const ref of [r.from, r.to].flat()) add(ref);
  const walk = (node: Readonly<Record<string, unknown>> | undefined): void => {
    for (const entry of Object.values(node ?? {})) {
      if (typeof entry !== 'object' || entry === null) continue;
      const e = entry as { from?: unknown; fields?: Readonly<Record<string, unknown>> };
      if (typeof e.from === 'string') out.add(e.from);
      walk(e.fields);
    }
  };
  walk(view.aggregation as Readonly<Record<string, unknown>> | undefined);
  return out;
}

function checkTopic(ctx: RuleContext, out: Diagnostic[], topics: readonly string[], topic: string | undefined, path: Path): void {
  if (topic === undefined || topics.includes(topic)) return;
  out.push(ctx.report({ code: 'MR_CONFIG_UNKNOWN_REF', path, message: `topic "${topic}" is not declared in bus.topics${didYouMean(topic, topics)}`, hint: 'declare it under bus.topics so it exists on every backend' }));
}

/** Views that reach themselves through the views they read (one diagnostic per cycle member). */
function cycles(views: Readonly<Record<string, SingleViewConfig>>): string[] {
  const reads = new Map(Object.entries(views).map(([name, v]) => [name, [...readsOf(v)].filter((r) => r in views)]));
  const looping: string[] = [];
  for (const start of reads.keys()) {
    const seen = new Set<string>();
    const stack = [...(reads.get(start) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (next === start) {
        looping.push(start);
        break;
      }
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(reads.get(next) ?? []));
    }
  }
  return looping;
}

export const fastDataTopics: ConfigRule = {
  name: 'fast-data-topics',
  check: (ctx) => {
    const out: Diagnostic[] = [];
    const fd = ctx.config.fastData ?? {};
    const topics = Object.keys(ctx.config.bus.topics);
    for (const [sorName, sor] of Object.entries(fd.systemsOfRecord ?? {})) {
      for (const [name, p] of Object.entries(sor.projections)) {
        const at: Path = ['fastData', 'systemsOfRecord', sorName, 'projections', name];
        checkTopic(ctx, out, topics, p.publish?.topic, [...at, 'publish', 'topic']);
        checkTopic(ctx, out, topics, p.external?.prUpdateTopic, [...at, 'external', 'prUpdateTopic']);
        if (p.external !== undefined && p.publish !== undefined) {
          out.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: [...at, 'publish'], message: `projection "${name}" is external (written by its pr-update producer), so mia-run cannot publish its pr-updates`, hint: 'remove publish, or remove external to ingest the projection here' }));
        }
      }
    }
    const views = fd.singleViews ?? {};
    for (const [name, view] of Object.entries(views)) {
      const at: Path = ['fastData', 'singleViews', name];
      checkTopic(ctx, out, topics, view.triggers?.publish?.topic, [...at, 'triggers', 'publish', 'topic']);
      checkTopic(ctx, out, topics, view.triggers?.consume?.topic, [...at, 'triggers', 'consume', 'topic']);
      if (view.publish?.includeBeforeAfter !== undefined && view.publish.version !== 'v1') {
        out.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', severity: 'warning', path: [...at, 'publish', 'includeBeforeAfter'], message: 'includeBeforeAfter applies to sv-update v1 only (v2 messages always carry before and after)', hint: 'add version: v1, or remove includeBeforeAfter' }));
      }
    }
    for (const name of cycles(views)) {
      out.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: ['fastData', 'singleViews', name], target: 'key', message: `single view "${name}" reads itself through the views it reads (SV chaining must not loop)`, hint: 'a view may read other views as projections, but the chain must end at projections' }));
    }
    return out;
  },
};

export const fastDataTopicRules: readonly ConfigRule[] = [fastDataTopics];
