/**
 * Batch sizing by time, as pt-online-schema-change's --chunk-time: each batch's size is the
 * measured row rate (an exponentially weighted average) times the target duration, within
 * [min, max] rows and at most doubling from one batch to the next, so a batch's row-lock hold
 * stays near the target on expensive rows while cheap rows get large batches. Fixed mode (an
 * explicit --batch-size without --chunk-time) keeps one size.
 */
export const DEFAULT_CHUNK_TIME_MS = 25;
export const DEFAULT_INITIAL_BATCH = 1000;
export const MIN_BATCH = 10;
export const MAX_BATCH = 100_000;

export class BatchSizer {
  private size: number;
  private rate: number | undefined;

  constructor(
    /** Target duration of one batch, ms; undefined: fixed size. */
    readonly targetMs: number | undefined,
    initial: number,
    readonly min = MIN_BATCH,
    readonly max = MAX_BATCH,
  ) {
    this.size = targetMs === undefined ? initial : Math.min(max, Math.max(min, initial));
  }

  get fixed(): boolean {
    return this.targetMs === undefined;
  }

  next(): number {
    return this.size;
  }

  /** A batch of `taken` rows (of `requested`) took `ms`; batches cut short by the end of the range say little. */
  record(taken: number, requested: number, ms: number): void {
    if (this.targetMs === undefined || taken < requested / 2 || taken === 0) return;
    const rate = taken / Math.max(ms, 0.5);
    // Over the target: trust the latest rate at once, so the next lock hold is back near the target.
    this.rate = this.rate === undefined || ms > this.targetMs ? rate : 0.5 * this.rate + 0.5 * rate;
    const wanted = Math.round(this.rate * this.targetMs);
    this.size = Math.min(this.max, Math.max(this.min, Math.min(wanted, this.size * 2)));
  }

  /** The measured rate (rows/ms), for the server-side loop to go on from. */
  get rowsPerMs(): number | undefined {
    return this.rate;
  }

  /** Where the server-side loop left the size and rate. */
  restore(size: number, rate: number | null | undefined): void {
    if (this.targetMs === undefined) return;
    this.size = Math.min(this.max, Math.max(this.min, size));
    this.rate = rate ?? undefined;
  }

  /** A batch ran into the statement timeout: cut hard, it is retried at the smaller size. */
  shrink(): boolean {
    if (this.size <= this.min) return false;
    this.size = Math.max(this.min, Math.floor(this.size / 4));
    this.rate = undefined;
    return true;
  }
}
