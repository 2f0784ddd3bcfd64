import { resolve } from 'node:path';
import { closest } from '../../config/diagnostics.js';
import { loadProject } from '../../config/load-project.js';
import { MiaRunError, isMiaRunError } from '../../errors.js';
import { rebuildReadModel } from '../../eventsourcing/index.js';
import type { CapabilityContext } from '../../ports/capability-context.js';
import { systemClock } from '../../ports/clock.js';
import type { Backend } from '../../ports/lifecycle.js';
import { createLogger } from '../../runtime/logger.js';
import { createBackendRegistry, storeKind } from '../../runtime/registry.js';
import type { Action } from '../command.js';
import { formatDiagnostic, formatError } from '../format/text.js';

interface RebuildOptions {
  readonly dataDir?: string;
  readonly logLevel?: string;
}

/** Rebuilds one read model; exit 0 with the count, 1 for an invalid descriptor or an unknown read model. */
export const rebuildAction: Action = async ({ args, options, io }) => {
  const [file, readModel] = [String(args[0]), String(args[1])];
  const opts = options as RebuildOptions;
  const loaded = await loadProject(file, { env: io.env, cwd: io.cwd });
  for (const d of loaded.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
  const config = loaded.config;
  if (config === undefined || loaded.diagnostics.some((d) => d.severity === 'error')) return 1;
  const names = Object.values(config.aggregates).flatMap((a) => (a.readModels ?? []).map((m) => m.name));
  const owner = Object.values(config.aggregates).find((a) => (a.readModels ?? []).some((m) => m.name === readModel));
  if (owner === undefined) {
    const suggestion = closest(readModel, names);
    io.stderr(`mia-run: error MR_CONFIG_UNKNOWN_REF: "${readModel}" is not a read model of ${file}${suggestion === undefined ? (names.length === 0 ? '; it declares none' : `; read models: ${names.join(', ')}`) : `; did you mean "${suggestion}"?`}\n`);
    return 1;
  }
  const logger = createLogger({ level: opts.logLevel ?? 'error', destination: process.stderr });
  const database = owner.database ?? 'default';
  const dbConfig = config.databases[database];
  if (dbConfig === undefined) throw new MiaRunError('MR_CONFIG_UNKNOWN_REF', `database "${database}" is not declared`);
  const dataDir = resolve(io.cwd, opts.dataDir ?? '.data');
  let store: Backend | undefined;
  try {
    store = createBackendRegistry().create(storeKind(dbConfig), database, dbConfig as never, { dataDir, logger, clock: systemClock, projectName: config.name });
    await store.start();
    const ctx: CapabilityContext = {
      config,
      stores: new Map([[database, store]]),
      bus: store,
      logger,
      clock: systemClock,
      dataDir,
      roles: ['aggregates'],
      targets: { get: () => undefined, list: () => [] },
    };
    const result = await rebuildReadModel(ctx, readModel);
    io.stdout(`${readModel}: rebuilt from aggregate ${result.aggregate}, ${result.documents} document(s)\n`);
    return 0;
  } catch (err) {
    if (!isMiaRunError(err)) throw err;
    io.stderr(`${formatError(err)}\n`);
    return 1;
  } finally {
    await store?.close();
  }
};
