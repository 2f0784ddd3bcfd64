import type { StranglerMode } from '../../config/sections/gateway.js';
import type { Difference } from './diff.js';

export interface ShadowSample {
  readonly at: string;
  readonly method: string;
  readonly url: string;
  readonly differences: readonly Difference[];
}

/** Counters of one strangler route, kept in the server (shadow results only exist there). */
export class RouteStats {
  servedByNew = 0;
  servedByLegacy = 0;
  shadowMatches = 0;
  shadowMismatches = 0;
  shadowErrors = 0;
  readonly samples: ShadowSample[] = [];

  constructor(
    readonly path: string,
    readonly mode: StranglerMode,
    readonly weight: number | undefined,
    private readonly sampleSize: number,
  ) {}

  /** Keeps the first `sampleSize` diffs, then replaces the oldest so the sample stays fresh. */
  addSample(sample: ShadowSample): void {
    if (this.sampleSize === 0) return;
    if (this.samples.length >= this.sampleSize) this.samples.shift();
    this.samples.push(sample);
  }

  report(): Record<string, unknown> {
    const served = this.servedByNew + this.servedByLegacy;
    const compared = this.shadowMatches + this.shadowMismatches;
    return {
      path: this.path,
      mode: this.mode,
      ...(this.weight === undefined ? {} : { weight: this.weight }),
      requests: served,
      newShare: served === 0 ? null : this.servedByNew / served,
      ...(this.mode === 'shadow'
        ? {
            shadow: {
              compared,
              matches: this.shadowMatches,
              mismatches: this.shadowMismatches,
              errors: this.shadowErrors,
              matchRate: compared === 0 ? null : this.shadowMatches / compared,
              samples: this.samples,
            },
          }
        : {}),
    };
  }
}
