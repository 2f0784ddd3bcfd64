/**
 * Status routes for orchestrators (the lc39 family of `/-/` routes):
 * - `GET /-/healthz`: the process is alive and serving HTTP (always 200 while it answers);
 * - `GET /-/ready`: the runtime is running and every backend and capability reports OK; else 503;
 * - `GET /-/check-up`: the same probes with a longer deadline and per-check durations, for humans and
 *   deep monitoring.
 * Bodies: `{ name, version, status: "OK" | "KO", checks: [{ name, status, message?, durationMs? }] }`.
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../ports/clock.js';
import type { HealthCheck } from '../ports/lifecycle.js';

/** Something whose health the status routes probe: a backend or a capability, under a display name. */
export interface HealthProbe {
  readonly name: string;
  health(): Promise<HealthCheck>;
}

export interface StatusCheck {
  readonly name: string;
  readonly status: 'OK' | 'KO';
  readonly message?: string;
  readonly durationMs?: number;
}

export interface StatusBody {
  readonly name: string;
  readonly version: string;
  readonly status: 'OK' | 'KO';
  readonly checks: readonly StatusCheck[];
}

export interface StatusRoutesOptions {
  /** Project name. */
  readonly name: string;
  /** mia-run version. */
  readonly version: string;
  readonly clock: Clock;
  /** A KO check while the runtime is not running (starting, stopping), else undefined. */
  readonly lifecycle: () => StatusCheck | undefined;
  readonly probes: () => readonly HealthProbe[];
  /** Deadline of each probe on `/-/ready`; default 2000 ms. */
  readonly readyTimeoutMs?: number;
  /** Deadline of each probe on `/-/check-up`; default 10000 ms. */
  readonly checkUpTimeoutMs?: number;
}

/** Runs one probe with a deadline; a throw or a missed deadline is a KO, never an unhandled error. */
async function runProbe(probe: HealthProbe, clock: Clock, timeoutMs: number, timed: boolean): Promise<StatusCheck> {
  const started = clock.now();
  const abort = new AbortController();
  const deadline = clock.sleep(timeoutMs, abort.signal).then(
    (): StatusCheck => ({ name: probe.name, status: 'KO', message: `no answer within ${timeoutMs} ms` }),
    () => undefined,
  );
  const answer = probe.health().then(
    (check): StatusCheck => ({ name: probe.name, status: check.status, ...(check.message === undefined ? {} : { message: check.message }) }),
    (err: unknown): StatusCheck => ({ name: probe.name, status: 'KO', message: err instanceof Error ? err.message : String(err) }),
  );
  const check = (await Promise.race([answer, deadline])) ?? (await answer);
  abort.abort();
  return timed ? { ...check, durationMs: clock.now() - started } : check;
}

export function installStatusRoutes(app: FastifyInstance, options: StatusRoutesOptions): void {
  const respond = (checks: readonly StatusCheck[]): StatusBody => ({
    name: options.name,
    version: options.version,
    status: checks.every((c) => c.status === 'OK') ? 'OK' : 'KO',
    checks,
  });
  const probeAll = async (timeoutMs: number, timed: boolean): Promise<StatusBody> => {
    const lifecycle = options.lifecycle();
    const checks = await Promise.all(options.probes().map((p) => runProbe(p, options.clock, timeoutMs, timed)));
    return respond(lifecycle === undefined ? checks : [lifecycle, ...checks]);
  };

  app.get('/-/healthz', async () => respond([]));
  app.get('/-/ready', async (_request, reply) => {
    const body = await probeAll(options.readyTimeoutMs ?? 2000, false);
    return reply.code(body.status === 'OK' ? 200 : 503).send(body);
  });
  app.get('/-/check-up', async (_request, reply) => {
    const body = await probeAll(options.checkUpTimeoutMs ?? 10_000, true);
    return reply.code(body.status === 'OK' ? 200 : 503).send(body);
  });
}
