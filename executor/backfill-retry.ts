import { backoffMs, sleep } from './ddl-transaction';
import { LockTimeoutError, StepFailedError } from './errors';
import { BackfillOptions } from './types';
import { errorCode, errorMessage } from '../phases/error-fields';

/** SQLSTATEs a batch is retried on: lock_not_available, deadlock_detected, serialization_failure. */
const RETRYABLE = new Set(['55P03', '40P01', '40001']);

/**
 * The backfill's retry policy: a statement that ran into a lock timeout (or a deadlock or
 * serialization failure) is retried with backoff until the same batch has waited longer than the
 * deadline; anything else fails the step, checkpoint kept.
 */
export class BackfillRetryPolicy {
  /** Every retry this run, for the result's lockRetries. */
  retries = 0;
  /** When the current batch first hit a lock timeout: retries of one batch stop at the deadline. */
  private waitingSince: number | undefined;
  private attempt = 0;

  constructor(
    private readonly label: string,
    private readonly deadlineMs: number,
    private readonly onProgress: BackfillOptions['onProgress'],
  ) {}

  /** A statement failed: wait and return (the caller retries), or throw what ends the run. */
  async onError(err: unknown, where: string): Promise<void> {
    const code = errorCode(err);
    if (RETRYABLE.has(String(code))) {
      this.retries++;
      this.waitingSince ??= Date.now();
      if (Date.now() - this.waitingSince > this.deadlineMs)
        throw new LockTimeoutError(this.label, this.retries, [`table locks held while running ${where}`]);
      this.onProgress?.({ kind: 'lock_wait', message: `backfill ${where} waited too long on a table lock; retrying` });
      await sleep(backoffMs(this.attempt++));
      return;
    }
    if (typeof code === 'string') {
      // e.g. an `up` expression that fails on some row's data: name the batch, keep the checkpoint.
      throw new StepFailedError(
        'backfill',
        where,
        `${errorMessage(err)}; the batches before it stay committed and the checkpoint is kept, so fix the data (tandem verify names the rows it raises on) or the spec (tandem rollback works at any point before contract) and run backfill again`,
        code,
      );
    }
    throw err;
  }

  /** A batch committed: the next one starts with a fresh wait and backoff. */
  succeeded(): void {
    this.waitingSince = undefined;
    this.attempt = 0;
  }

  /** A revisit committed: its wait starts again, its backoff goes on. */
  waitEnded(): void {
    this.waitingSince = undefined;
  }
}
