import { BackfillStoppedError } from './backfill-errors';
import { sleep } from './ddl-transaction';
import { Throttle } from './throttle';
import { BackfillOptions } from './types';

export interface ThrottleWaitTiming {
  /** Between throttle checks while running, ms. */
  readonly checkMs: number;
  /** Between checks while paused, ms. */
  readonly pausedPollMs: number;
}

/**
 * The backfill's throttle wait between batches: pause while a limit is exceeded (saying so at
 * most every 5 s, or when the reason changes), stop (checkpoint kept) at critical load.
 */
export class BackfillThrottleWait {
  /** Time spent paused this run, ms. */
  pausedMs = 0;
  private lastCheck = 0;

  constructor(
    private readonly throttle: Throttle,
    private readonly timing: ThrottleWaitTiming,
    private readonly label: string,
    private readonly migration: string,
    private readonly options: BackfillOptions,
  ) {}

  /** Wait until the throttle lets the next batch run; `rowsUpdated` names the progress in a stop. */
  async wait(rowsUpdated: number): Promise<void> {
    if (!this.throttle.active || Date.now() - this.lastCheck < this.timing.checkMs) return;
    this.lastCheck = Date.now();
    let verdict = await this.throttle.check();
    if (!verdict.pause && !verdict.stop) return;
    const pausedAt = Date.now();
    let said = '';
    let saidAt = 0;
    while (verdict.pause && !verdict.stop) {
      if (verdict.pause !== said || Date.now() - saidAt >= 5000) {
        this.options.onProgress?.({ kind: 'info', message: `backfill ${this.label} paused: ${verdict.pause}` });
        said = verdict.pause;
        saidAt = Date.now();
      }
      await sleep(this.timing.pausedPollMs);
      verdict = await this.throttle.check();
    }
    if (verdict.stop)
      throw new BackfillStoppedError(verdict.stop, this.label, rowsUpdated, this.options.resumeCommand, this.migration);
    this.pausedMs += Date.now() - pausedAt;
    this.options.onProgress?.({
      kind: 'info',
      message: `backfill ${this.label} resumed after ${((Date.now() - pausedAt) / 1000).toFixed(1)} s paused`,
    });
  }
}
