/**
 * One read of a collection, shared by list, get by id and export: filter, projection (plain or raw with
 * expressions through `aggregate`), sort, skip and limit; views read through their pipeline.
 */
import type { Document, Filter, FindCursor, Sort } from '../../ports/document-store.js';
import { isView } from '../../config/sections/collections.js';
import { badRequest } from '../errors.js';
import { projectionPlan } from '../query/projection.js';
import { buildFilter, type QueryString } from '../query/read-plan.js';
import { parseSort } from '../query/sort.js';
import { parseJsonParam, type RequestContext } from '../request-context.js';
import type { CollectionServices } from './services.js';

export interface ReadOptions {
  readonly limit?: number;
  readonly skip?: number;
  /** The path id (get by id). */
  readonly extra?: Filter;
}

export interface Read {
  readonly cursor: FindCursor;
  /** Keys besides the schema fields that the result may carry (`score` of `$text`). */
  readonly extraKeys?: ReadonlySet<string>;
}

const SCORE = new Set(['score']);

interface ReadPlan {
  readonly plan: ReturnType<typeof buildFilter>;
  readonly projection: ReturnType<typeof projectionPlan>;
  readonly requested: Sort | undefined;
}

/** Parses a read's parameters; throws 400s for any bad one before touching the store. */
function planRead(services: CollectionServices, query: QueryString, ctx: RequestContext, extra: Filter | undefined): ReadPlan {
  const { model } = services;
  const plan = buildFilter(model, query, ctx, extra === undefined ? {} : { extra });
  const rawp = typeof query._rawp === 'string' ? parseJsonParam('_rawp', query._rawp, ctx.base64) : undefined;
  const projection = projectionPlan(model, typeof query._p === 'string' ? query._p : undefined, rawp, ctx.readColumns);
  const requested = parseSort(model, query._s as string | readonly string[] | undefined);
  if (plan.near && requested !== undefined) throw badRequest('_s cannot be used with $nearSphere (results come nearest first)');
  return { plan, projection, requested };
}

/** Starts a read; throws 400s for any bad parameter before touching the store. */
export function startRead(services: CollectionServices, query: QueryString, ctx: RequestContext, options: ReadOptions): Read {
  return openRead(services, planRead(services, query, ctx, options.extra), options);
}

/**
 * Get by id (`extra` names the id): at most one document matches, so a plain read of a collection goes
 * straight to the store's `findOne` (no cursor, no sort); views, raw expressions, `$text` and `$nearSphere`
 * read as `startRead` does.
 */
export async function readOne(services: CollectionServices, query: QueryString, ctx: RequestContext, extra: Filter): Promise<{ doc: Document | undefined; extraKeys?: ReadonlySet<string> }> {
  const read = planRead(services, query, ctx, extra);
  const { plan, projection } = read;
  if (isView(services.model.config) || projection.rawExpressions || plan.text || plan.near) {
    const opened = openRead(services, read, { limit: 1 });
    const [doc] = await opened.cursor.toArray();
    return opened.extraKeys === undefined ? { doc } : { doc, extraKeys: opened.extraKeys };
  }
  const fields = projection.fields === undefined ? undefined : { _id: 1 as const, ...projection.fields };
  const doc = await services.collection().findOne(plan.filter, fields === undefined ? {} : { projection: fields });
  return { doc: doc ?? undefined };
}

function openRead(services: CollectionServices, read: ReadPlan, options: ReadOptions): Read {
  const { model } = services;
  const { plan, projection, requested } = read;
  let sort: Sort | undefined = requested ?? (plan.text ? { score: { $meta: 'textScore' } } : plan.near ? undefined : model.defaultSorting);
  const collection = services.collection();
  const config = model.config;
  if (isView(config) || projection.rawExpressions) {
    if (plan.near) throw badRequest('$nearSphere cannot be used on views or with a raw projection with expressions');
    const pipeline: Document[] = isView(config) ? [...config.pipeline] : [];
    pipeline.push({ $match: plan.filter });
    if (sort !== undefined && plan.text && requested === undefined) sort = undefined;
    if (sort !== undefined) pipeline.push({ $sort: sort });
    if (options.skip !== undefined && options.skip > 0) pipeline.push({ $skip: options.skip });
    if (options.limit !== undefined) pipeline.push({ $limit: options.limit });
    if (projection.raw !== undefined) pipeline.push({ $project: { _id: 1, ...projection.raw } });
    else if (projection.fields !== undefined) pipeline.push({ $project: { _id: 1, ...projection.fields } });
    return { cursor: collection.aggregate(pipeline) };
  }
  const fields = projection.fields === undefined ? undefined : { _id: 1 as const, ...projection.fields };
  const withScore = plan.text ? { ...(fields ?? {}), score: { $meta: 'textScore' as const } } : fields;
  const cursor = collection.find(plan.filter, {
    ...(withScore === undefined ? {} : { projection: withScore }),
    ...(sort === undefined ? {} : { sort }),
    ...(options.skip === undefined || options.skip === 0 ? {} : { skip: options.skip }),
    ...(options.limit === undefined ? {} : { limit: options.limit }),
  });
  return plan.text ? { cursor, extraKeys: SCORE } : { cursor };
}
