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

/** Starts a read; throws 400s for any bad parameter before touching the store. */
export function startRead(services: CollectionServices, query: QueryString, ctx: RequestContext, options: ReadOptions): Read {
  const { model } = services;
  const plan = buildFilter(model, query, ctx, options.extra === undefined ? {} : { extra: options.extra });
  const rawp = typeof query._rawp === 'string' ? parseJsonParam('_rawp', query._rawp, ctx.base64) : undefined;
  const projection = projectionPlan(model, typeof query._p === 'string' ? query._p : undefined, rawp, ctx.readColumns);
  const requested = parseSort(model, query._s as string | readonly string[] | undefined);
  if (plan.near && requested !== undefined) throw badRequest('_s cannot be used with $nearSphere (results come nearest first)');
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
