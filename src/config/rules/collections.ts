/**
 * Rules for `collections:` (crud-api.md §1): unique names and base paths, known databases and topics,
 * `fields` or `schema` (one of them), metadata fields declared only with their own type, index and sorting fields that exist with
 * a fitting type, and views over a declared collection with a read-only pipeline.
 */
import { isView, METADATA_FIELDS, type CollectionConfig, type FieldDefinition } from '../sections/collections.js';
import { didYouMean } from '../diagnostics.js';
import type { Diagnostic } from '../types.js';
import type { ConfigRule, RuleContext } from './rule.js';

const METADATA = new Set<string>(METADATA_FIELDS);

/** The Mia type of a metadata field. */
const metadataType = (name: string): string => (name === 'createdAt' || name === 'updatedAt' ? 'Date' : name === '_id' ? 'ObjectId' : 'string');

/** Top-level field names of a collection, declared and metadata. */
function fieldNames(collection: CollectionConfig): Map<string, string> {
  const names = new Map<string, string>(METADATA_FIELDS.map((n) => [n, metadataType(n)]));
  for (const field of collection.fields ?? []) names.set(field.name, field.type);
  const props = collection.schema?.properties;
  if (props !== null && typeof props === 'object') {
    for (const [name, schema] of Object.entries(props as Record<string, Record<string, unknown>>)) {
      const mia = (schema.__mia_configuration as { type?: string } | undefined)?.type;
      const type = mia ?? (schema.format === 'date-time' ? 'Date' : schema.type === 'array' ? 'Array' : schema.type === 'object' ? 'RawObject' : String(schema.type));
      names.set(name, type);
    }
  }
  return names;
}

const root = (path: string): string => path.split('.')[0] ?? path;

export const collectionNames: ConfigRule = {
  name: 'collection-names',
  check: (ctx) => {
    const found: Diagnostic[] = [];
    const names = new Map<string, number>();
    const paths = new Map<string, number>();
    ctx.config.collections.forEach((c, i) => {
      const previous = names.get(c.name);
      if (previous !== undefined) found.push(ctx.report({ code: 'MR_CONFIG_DUPLICATE', path: ['collections', i, 'name'], message: `collection "${c.name}" is already declared at collections[${previous}]` }));
      else names.set(c.name, i);
      if (c.endpointBasePath === undefined) return;
      const normalized = c.endpointBasePath.replace(/\/+$/, '') || '/';
      const other = paths.get(normalized);
      if (other !== undefined) found.push(ctx.report({ code: 'MR_CONFIG_DUPLICATE', path: ['collections', i, 'endpointBasePath'], message: `endpointBasePath "${c.endpointBasePath}" is also used by collections[${other}]`, hint: 'each collection is served under its own base path' }));
      else paths.set(normalized, i);
    });
    return found;
  },
};

export const collectionRefs: ConfigRule = {
  name: 'collection-refs',
  check: (ctx) => {
    const found: Diagnostic[] = [];
    const databases = Object.keys(ctx.config.databases);
    const topics = Object.keys(ctx.config.bus.topics);
    ctx.config.collections.forEach((c, i) => {
      if (c.database !== undefined && !databases.includes(c.database)) {
        found.push(ctx.report({ code: 'MR_CONFIG_UNKNOWN_REF', path: ['collections', i, 'database'], message: `"${c.database}" is not a declared database${didYouMean(c.database, databases)}`, hint: `declared databases: ${databases.join(', ')}` }));
      }
      if (!isView(c) && c.events !== undefined && !topics.includes(c.events.topic)) {
        found.push(ctx.report({
          code: 'MR_CONFIG_UNKNOWN_REF', path: ['collections', i, 'events', 'topic'],
          message: `"${c.events.topic}" is not a declared topic${didYouMean(c.events.topic, topics)}`,
          hint: topics.length === 0 ? 'declare it under bus.topics' : `declared topics: ${topics.join(', ')}`,
        }));
      }
    });
    return found;
  },
};

function checkFields(ctx: RuleContext, c: CollectionConfig, i: number): Diagnostic[] {
  const found: Diagnostic[] = [];
  if (c.fields !== undefined && c.schema !== undefined) found.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: ['collections', i, 'schema'], target: 'key', message: `collection "${c.name}" has both fields and schema; give one of them` }));
  if (!isView(c) && c.fields === undefined && c.schema === undefined) found.push(ctx.report({ code: 'MR_CONFIG_MISSING_KEY', path: ['collections', i], target: 'key', message: `collection "${c.name}" needs fields (Mia's field list) or schema (a JSON Schema)` }));
  const seen = new Set<string>();
  (c.fields ?? []).forEach((f: FieldDefinition, j) => {
    const path = ['collections', i, 'fields', j, 'name'];
    if (seen.has(f.name)) found.push(ctx.report({ code: 'MR_CONFIG_DUPLICATE', path, message: `field "${f.name}" is declared twice` }));
    seen.add(f.name);
    if (f.name === '_id' && f.type !== 'string' && f.type !== 'ObjectId') found.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: ['collections', i, 'fields', j, 'type'], message: '_id may only be declared as string or ObjectId' }));
    // Mia collection files declare the metadata fields with their fixed types: accepted as is, other types are not.
    else if (f.name !== '_id' && METADATA.has(f.name) && f.type !== metadataType(f.name)) found.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path, message: `"${f.name}" is a metadata field of type ${metadataType(f.name)}; it is implicit and cannot be declared as ${f.type}`, hint: `metadata fields: ${METADATA_FIELDS.join(', ')} (declaring them is optional)` }));
  });
  return found;
}

function checkIndexes(ctx: RuleContext, c: CollectionConfig, i: number, names: Map<string, string>): Diagnostic[] {
  if (isView(c)) return [];
  const found: Diagnostic[] = [];
  const declared = [...names.keys()];
  const unknown = (name: string, path: (string | number)[]): void => {
    if (names.has(root(name))) return;
    found.push(ctx.report({ code: 'MR_CONFIG_UNKNOWN_REF', path, message: `"${name}" is not a field of collection "${c.name}"${didYouMean(root(name), declared)}` }));
  };
  const indexNames = new Set<string>();
  (c.indexes ?? []).forEach((index, j) => {
    const base = ['collections', i, 'indexes', j];
    if (indexNames.has(index.name)) found.push(ctx.report({ code: 'MR_CONFIG_DUPLICATE', path: [...base, 'name'], message: `index "${index.name}" is declared twice` }));
    indexNames.add(index.name);
    if (index.type === 'geo' || index.type === 'hash') {
      unknown(index.field, [...base, 'field']);
      if (index.type === 'geo' && names.has(index.field) && names.get(index.field) !== 'GeoPoint') {
        found.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: [...base, 'field'], message: `geo index "${index.name}" needs a GeoPoint field; "${index.field}" is ${names.get(index.field) ?? 'unknown'}` }));
      }
      return;
    }
    index.fields.forEach((f, k) => unknown(f.name, [...base, 'fields', k, 'name']));
    if (index.type === 'normal' && index.expireAfterSeconds !== undefined) {
      const only = index.fields.length === 1 ? index.fields[0]?.name : undefined;
      if (only === undefined || names.get(only) !== 'Date') found.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: [...base, 'expireAfterSeconds'], message: `TTL index "${index.name}" needs exactly one Date field` }));
    }
  });
  return found;
}

export const collectionFields: ConfigRule = {
  name: 'collection-fields',
  check: (ctx) =>
    ctx.config.collections.flatMap((c, i) => {
      const names = fieldNames(c);
      const found = [...checkFields(ctx, c, i), ...checkIndexes(ctx, c, i, names)];
      for (const field of Object.keys(c.defaultSorting ?? {})) {
        if (!names.has(root(field))) found.push(ctx.report({ code: 'MR_CONFIG_UNKNOWN_REF', path: ['collections', i, 'defaultSorting', field], target: 'key', message: `"${field}" is not a field of collection "${c.name}"${didYouMean(root(field), names.keys())}` }));
      }
      return found;
    }),
};

const WRITING_STAGES = new Set(['$out', '$merge']);

export const viewSources: ConfigRule = {
  name: 'view-sources',
  check: (ctx) => {
    const found: Diagnostic[] = [];
    const collections = ctx.config.collections.filter((c) => !isView(c)).map((c) => c.name);
    ctx.config.collections.forEach((c, i) => {
      if (!isView(c)) return;
      if (!collections.includes(c.source)) {
        found.push(ctx.report({ code: 'MR_CONFIG_UNKNOWN_REF', path: ['collections', i, 'source'], message: `"${c.source}" is not a declared collection${didYouMean(c.source, collections)}` }));
      }
      c.pipeline.forEach((stage, j) => {
        const name = Object.keys(stage)[0] ?? '';
        if (WRITING_STAGES.has(name)) found.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: ['collections', i, 'pipeline', j], target: 'key', message: `views are read-only: ${name} is not allowed` }));
      });
    });
    return found;
  },
};

export const collectionRules: readonly ConfigRule[] = [collectionNames, collectionRefs, collectionFields, viewSources];
