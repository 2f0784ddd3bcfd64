/**
 * What the Fast Data operations work on, read from the descriptor only (no hooks, no I/O): every projection
 * with its system of record, topic, consumer group, collection and dead-letter topic, and every single view.
 * Names given by a user are resolved here, with a closest-match suggestion on a typo.
 */
import { closest } from '../../config/diagnostics.js';
import type { FastDataConfig, SingleViewConfig } from '../../config/sections/fast-data.js';
import { MiaRunError } from '../../errors.js';
import { projectionDeadLetterTopic } from '../dead-letters.js';
import { baseOf } from '../single-view/model.js';

export interface ProjectionTarget {
  readonly kind: 'projection';
  readonly name: string;
  readonly sor: string;
  readonly topic: string;
  readonly group: string;
  readonly database: string;
  readonly collection: string;
  readonly primaryKey: readonly string[];
  readonly deadLetterTopic: string;
}

export interface ViewTarget {
  readonly kind: 'view';
  readonly name: string;
  readonly database: string;
  readonly collection: string;
  readonly base: string;
  readonly config: SingleViewConfig;
}

export interface FastDataTargets {
  readonly project: string;
  readonly projections: ReadonlyMap<string, ProjectionTarget>;
  readonly views: ReadonlyMap<string, ViewTarget>;
  /** A projection or view by name; throws MR_FD_UNKNOWN_NAME with a suggestion. */
  resolve(name: string, only?: 'projection' | 'view'): ProjectionTarget | ViewTarget;
  /** The projection whose dead-letter topic is `topic`; throws MR_FD_UNKNOWN_NAME. */
  byDeadLetterTopic(topic: string): ProjectionTarget;
}

/** Consumer group of a system of record (`<project>.<sor>.projections`). */
export const sorGroupName = (project: string, sor: string): string => `${project}.${sor}.projections`;

/** Reads the targets of `fastData`. */
export function fastDataTargets(project: string, fastData: FastDataConfig | undefined): FastDataTargets {
  const projections = new Map<string, ProjectionTarget>();
  for (const [sor, s] of Object.entries(fastData?.systemsOfRecord ?? {})) {
    for (const [name, p] of Object.entries(s.projections)) {
      projections.set(name, {
        kind: 'projection', name, sor, topic: p.topic, group: sorGroupName(project, sor), database: s.database ?? 'default',
        collection: p.collection ?? name, primaryKey: p.primaryKey, deadLetterTopic: projectionDeadLetterTopic({ topic: p.topic, config: p }),
      });
    }
  }
  const views = new Map<string, ViewTarget>();
  for (const [name, v] of Object.entries(fastData?.singleViews ?? {})) {
    views.set(name, { kind: 'view', name, database: v.database ?? 'default', collection: v.collection ?? name, base: baseOf(v), config: v });
  }
  const unknown = (name: string, what: string, candidates: readonly string[]): MiaRunError => {
    const suggestion = closest(name, candidates);
    const tail = suggestion !== undefined ? `; did you mean "${suggestion}"?` : candidates.length === 0 ? '; none is declared' : `; declared: ${candidates.join(', ')}`;
    return new MiaRunError('MR_FD_UNKNOWN_NAME', `"${name}" is not ${what} of project "${project}"${tail}`, { details: { name } });
  };
  return {
    project,
    projections,
    views,
    resolve(name, only) {
      const found = only === 'view' ? views.get(name) : only === 'projection' ? projections.get(name) : (projections.get(name) ?? views.get(name));
      if (found !== undefined) return found;
      const candidates = [...(only !== 'view' ? projections.keys() : []), ...(only !== 'projection' ? views.keys() : [])];
      throw unknown(name, only === 'view' ? 'a single view' : only === 'projection' ? 'a projection' : 'a projection or single view', candidates);
    },
    byDeadLetterTopic(topic) {
      const found = [...projections.values()].find((p) => p.deadLetterTopic === topic);
      if (found !== undefined) return found;
      throw unknown(topic, 'a dead-letter topic', [...projections.values()].map((p) => p.deadLetterTopic));
    },
  };
}
