import type { FastifyPluginAsync } from 'fastify';
import type { TargetDirectory } from '../ports/capability-context.js';
import type { Capability } from '../ports/lifecycle.js';

/** The runtime's `TargetDirectory`: filled with each capability's non-prefix route keys after creation. */
export function createTargetDirectory(): TargetDirectory & { add(capability: Capability): void } {
  const byKey = new Map<string, FastifyPluginAsync>();
  const entries: { capability: string; target: string }[] = [];
  return {
    add(capability) {
      for (const [target, plugin] of capability.routes) {
        if (target.startsWith('/')) continue;
        byKey.set(`${capability.name}\u0000${target}`, plugin);
        entries.push({ capability: capability.name, target });
      }
    },
    get: (capability, target) => byKey.get(`${capability}\u0000${target}`),
    list: () => entries,
  };
}
