/**
 * Rules for `databases:` (STYLE §3): a descriptor may only ask a database for what its kind offers. A text
 * index needs `text`, a geo index `geo`, an index with `expireAfterSeconds` `ttl`; the features of each kind
 * come from the static table in `src/ports/store-features.ts`, which every store adapter declares as well, so
 * `validate` needs no adapter and no server. (A server narrower than its kind, e.g. FerretDB for `mongodb`,
 * is caught at start, where the adapter refuses the index with `MR_STORE_UNSUPPORTED`.)
 *
 * Collections are read defensively: their section is owned by CRUD, and a collection naming an undeclared
 * database is another rule's diagnostic, not this one's.
 */
import { STORE_FEATURE_DESCRIPTIONS, type StoreFeature, STORE_FEATURES_BY_KIND, storeFeatures } from '../../ports/store-features.js';
import type { Path } from '../locate.js';
import type { DatabaseConfig, Diagnostic } from '../types.js';
import type { ConfigRule, RuleContext } from './rule.js';

/** A need of the descriptor: which feature, for what, and where it is written. */
interface FeatureNeed {
  readonly feature: StoreFeature;
  readonly what: string;
  readonly path: Path;
}

const INDEX_TYPE_FEATURES: Readonly<Record<string, StoreFeature>> = { text: 'text', geo: 'geo' };

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What one collection entry needs from its database. */
function collectionNeeds(collection: Readonly<Record<string, unknown>>, index: number): FeatureNeed[] {
  const needs: FeatureNeed[] = [];
  const indexes = Array.isArray(collection.indexes) ? (collection.indexes as readonly unknown[]) : [];
  indexes.forEach((spec, j) => {
    if (!isRecord(spec)) return;
    const name = typeof spec.name === 'string' ? `index "${spec.name}"` : `indexes[${j}]`;
    const byType = typeof spec.type === 'string' ? INDEX_TYPE_FEATURES[spec.type] : undefined;
    if (byType !== undefined) needs.push({ feature: byType, what: `${spec.type} ${name}`, path: ['collections', index, 'indexes', j, 'type'] });
    if (spec.expireAfterSeconds !== undefined) needs.push({ feature: 'ttl', what: `TTL ${name}`, path: ['collections', index, 'indexes', j, 'expireAfterSeconds'] });
  });
  return needs;
}

function kindsWith(feature: StoreFeature): string[] {
  return Object.entries(STORE_FEATURES_BY_KIND)
    .filter(([, features]) => features.includes(feature))
    .map(([kind]) => kind.replace(/^store\./, ''));
}

/**
 * The rule, with the features table injectable (tests use a narrower table; production reads the ports').
 *
 * @example
 * createStoreFeatureRule((kind) => new Set(kind === 'store.embedded' ? [] : ['text']))
 */
export function createStoreFeatureRule(featuresOf: (kind: string) => ReadonlySet<StoreFeature> = storeFeatures): ConfigRule {
  return {
    name: 'database-features',
    check: (ctx: RuleContext): readonly Diagnostic[] => {
      const found: Diagnostic[] = [];
      const databases: Readonly<Record<string, DatabaseConfig>> = ctx.config.databases;
      ctx.config.collections.forEach((entry, i) => {
        if (!isRecord(entry)) return;
        const databaseName = typeof entry.database === 'string' ? entry.database : 'default';
        const database = databases[databaseName];
        if (database === undefined) return;
        const offered = featuresOf(`store.${database.kind}`);
        const collectionName = typeof entry.name === 'string' ? entry.name : `collections[${i}]`;
        for (const need of collectionNeeds(entry, i)) {
          if (offered.has(need.feature)) continue;
          const alternatives = kindsWith(need.feature);
          found.push(ctx.report({
            code: 'MR_CONFIG_UNSUPPORTED_FEATURE',
            path: need.path,
            message: `the ${need.what} of collection "${collectionName}" needs the "${need.feature}" feature (${STORE_FEATURE_DESCRIPTIONS[need.feature]}), which database "${databaseName}" (kind ${database.kind}) does not offer`,
            hint: alternatives.length > 0 ? `put the collection in a database of kind ${alternatives.join(' or ')}, or remove the index` : 'no store kind offers it; remove the index',
          }));
        }
      });
      return found;
    },
  };
}

export const databaseRules: readonly ConfigRule[] = [createStoreFeatureRule()];
