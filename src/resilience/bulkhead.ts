import { MiaRunError } from '../errors.js';
import { definePolicy, type Call, type CallResult, type Policy } from './types.js';

export interface BulkheadOptions {
  readonly maxConcurrent: number;
  readonly name?: string;
}

export interface Bulkhead extends Policy {
  /** Calls in flight now. */
  active(): number;
}

/**
 * Caps concurrent calls; a call over the cap fails at once with MR_GW_BULKHEAD_FULL (503) instead of
 * queueing, so one slow upstream cannot hold every socket and request of the process. A slot is held
 * until the call's result arrives (for a proxy: the response headers).
 */
export function createBulkhead(options: BulkheadOptions): Bulkhead {
  let active = 0;
  const wrap = <R extends CallResult>(next: Call<R>): Call<R> => async (ctx) => {
    if (active >= options.maxConcurrent) {
      throw new MiaRunError('MR_GW_BULKHEAD_FULL', `${options.name ?? 'the upstream'} already has ${options.maxConcurrent} calls in flight`, {
        details: { maxConcurrent: options.maxConcurrent },
      });
    }
    active++;
    try {
      return await next(ctx);
    } finally {
      active--;
    }
  };
  return definePolicy('bulkhead', wrap, { active: () => active });
}
