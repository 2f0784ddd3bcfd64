import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { installErrorMapper } from '../../http/error-mapper.js';

/**
 * A private Fastify instance holding one in-process target plugin at a prefix, for dispatch that does not
 * go through the endpoint's own routes: BFF calls (`inject`, no network) and strangler routes (`routing`
 * of the live request). Built once; readied on first use.
 */
export interface TargetHost {
  readonly prefix: string;
  ready(): Promise<FastifyInstance>;
  close(): Promise<void>;
}

export function createTargetHost(plugin: FastifyPluginAsync, prefix: string, bodyLimit: number): TargetHost {
  let app: FastifyInstance | undefined;
  let readying: Promise<FastifyInstance> | undefined;
  return {
    prefix,
    ready() {
      readying ??= (async () => {
        app = Fastify({ logger: false, bodyLimit }) as unknown as FastifyInstance;
        installErrorMapper(app);
        await app.register(plugin, { prefix });
        await app.ready();
        return app;
      })();
      return readying;
    },
    close: async () => {
      await app?.close();
    },
  };
}
