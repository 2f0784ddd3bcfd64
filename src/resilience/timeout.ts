import type { Clock } from '../ports/clock.js';
import { MiaRunError } from '../errors.js';
import { definePolicy, type Call, type CallResult, type Policy } from './types.js';

export interface TimeoutOptions {
  /** Milliseconds before the call is abandoned with MR_GW_UPSTREAM_TIMEOUT. */
  readonly ms: number;
  /** `overall` sits outside retry (one deadline for all attempts); `attempt` inside (one per attempt). */
  readonly scope?: 'overall' | 'attempt';
  readonly clock: Clock;
  /** Named in the error message (the upstream or endpoint). */
  readonly name?: string;
}

/**
 * Gives a call `ms` of clock time to produce its result. The call gets a child AbortSignal that aborts on
 * timeout (and when the caller's signal aborts) so it stops its I/O; the wrapper does not wait for a call
 * that ignores the signal. The timer covers getting the result (for a proxy: the response headers);
 * streaming the body afterwards is the proxy's own idle timeout.
 */
export function createTimeout(options: TimeoutOptions): Policy {
  const { ms, clock } = options;
  const kind = options.scope === 'attempt' ? 'attemptTimeout' : 'timeout';
  return definePolicy(kind, <R extends CallResult>(next: Call<R>): Call<R> => (ctx) => {
    const controller = new AbortController();
    const parent = ctx.signal;
    if (parent?.aborted) return Promise.reject(parent.reason);
    // Not removed after the call settles: a client that goes away later must still stop a streaming body.
    parent?.addEventListener('abort', () => controller.abort(parent.reason), { once: true });
    return new Promise<R>((resolve, reject) => {
      let done = false;
      const timer = clock.setTimeout(() => {
        if (done) return;
        done = true;
        const error = new MiaRunError('MR_GW_UPSTREAM_TIMEOUT', `${options.name ?? 'the call'} did not answer within ${ms} ms`, {
          details: { timeoutMs: ms, scope: options.scope ?? 'overall' },
        });
        controller.abort(error);
        reject(error);
      }, ms);
      const onParentAbort = (): void => {
        if (done) return;
        done = true;
        clock.clearTimeout(timer);
        reject(parent?.reason);
      };
      parent?.addEventListener('abort', onParentAbort, { once: true });
      next({ ...ctx, signal: controller.signal }).then(
        (result) => {
          parent?.removeEventListener('abort', onParentAbort);
          if (done) return void result.dispose?.(); // too late: nobody will read it
          done = true;
          clock.clearTimeout(timer);
          resolve(result);
        },
        (error: unknown) => {
          parent?.removeEventListener('abort', onParentAbort);
          if (done) return;
          done = true;
          clock.clearTimeout(timer);
          reject(error);
        },
      );
    });
  });
}
