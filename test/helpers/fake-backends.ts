import type { BackendFactories } from '../../src/runtime/registry.js';
import type { Backend, HealthCheck } from '../../src/ports/lifecycle.js';

/** A Backend port implementation whose health the test sets; records lifecycle calls in `events`. */
export class FakeBackend implements Backend {
  readonly features = new Set<string>();
  health_: HealthCheck['status'] = 'OK';
  message: string | undefined;
  failStart = false;

  constructor(
    readonly kind: string,
    readonly name: string,
    private readonly events: string[],
  ) {}

  async start(): Promise<void> {
    if (this.failStart) throw new Error(`${this.name} cannot open`);
    this.events.push(`start ${this.kind} ${this.name}`);
  }

  async health(): Promise<HealthCheck> {
    return this.message === undefined ? { name: this.name, status: this.health_ } : { name: this.name, status: this.health_, message: this.message };
  }

  async close(): Promise<void> {
    this.events.push(`close ${this.kind} ${this.name}`);
  }
}

/** Fake factories for every kind; created backends are collected by name. */
export function fakeBackends(events: string[] = []): { factories: BackendFactories; created: Map<string, FakeBackend>; events: string[] } {
  const created = new Map<string, FakeBackend>();
  const make = (kind: string) => (name: string) => {
    const backend = new FakeBackend(kind, name, events);
    created.set(name, backend);
    return backend;
  };
  return {
    factories: { 'store.embedded': make('store.embedded'), 'store.mongodb': make('store.mongodb'), 'bus.embedded': make('bus.embedded'), 'bus.kafka': make('bus.kafka') },
    created,
    events,
  };
}
