import { MigrationSpec } from '../phases/sql/spec';

/** Where the executor is in a migration, as recorded in tandem.migrations and checked against the catalog. */
export type MigrationProgress =
  'not_started' | 'expanded' | 'backfilling' | 'backfilled' | 'contracted' | 'rolled_back';

export interface ProgressEvent {
  readonly kind: 'lock_wait' | 'backfill' | 'step' | 'info';
  readonly message: string;
  /** backfill: rows done / rows to do (an estimate made at start). */
  readonly done?: number;
  readonly total?: number;
  readonly rowsPerSecond?: number;
}

export interface ExecutorOptions {
  /** postgres://... (the CLI takes it from DATABASE_URL or --database-url). */
  readonly databaseUrl: string;
  /** lock_timeout for every DDL statement, ms (default 1000). */
  readonly lockTimeoutMs?: number;
  /** How long a DDL transaction may hold its locks while its client is idle (server-side), ms (default 2000). */
  readonly lockHoldMs?: number;
  /** Give up retrying a DDL transaction after this long, ms (default 300000). */
  readonly ddlDeadlineMs?: number;
  readonly onProgress?: (event: ProgressEvent) => void;
}

/** The app versions of the talk: v1 uses the old columns, v2 both, v3 the new ones. */
import type { AppVersion } from '../phases/deploy/stages';
export type { AppVersion };

export interface VerifyOptions extends ExecutorOptions {
  /**
   * Verify for a canary of this app version: whether the table, as it is now, can serve it.
   * v1 runs before expand too but not after contract; v2 needs the expanded table; v3 runs on the
   * expanded or contracted table. Expanded always means: consistent and fully backfilled.
   */
  readonly forApp?: AppVersion;
}

export interface RollbackOptions extends ExecutorOptions {
  /** Roll back even when rows hold new-version writes that the old columns cannot reproduce (a lossy `down`). */
  readonly force?: boolean;
}

export interface RepairOptions extends ExecutorOptions {
  /** Only these primary keys (each as text; a composite key as a JSON array). Default: every flagged or inconsistent row. */
  readonly keys?: readonly string[];
  /** Rows per repair transaction (default 100). */
  readonly batchSize?: number;
}

export interface RepairResult extends StepResult {
  readonly repaired: number;
  /** Rows whose expressions still raise on their values: fix the data (a write of the side named) or roll back. */
  readonly stillFailing: { readonly key: string; readonly side: string; readonly error: string }[];
}

export interface BackfillOptions extends ExecutorOptions {
  /** Rows per batch transaction (default 1000). */
  readonly batchSize?: number;
  /** Sleep between batches, ms (default 0). */
  readonly throttleMs?: number;
  /** Stop after this many batches (for tests and careful operators); the checkpoint keeps the rest for later. */
  readonly maxBatches?: number;
  /**
   * Target duration of one batch, ms: batches are sized by time (default 25 ms), starting at
   * batchSize. When only batchSize is given, every batch has that many rows.
   */
  readonly chunkTimeMs?: number;
  /** Pause while a streaming replica's replay lag exceeds this, ms. */
  readonly maxLagMs?: number;
  /** Pause while a streaming replica has more than this many bytes of WAL to replay. */
  readonly maxLagBytes?: number;
  /** Pause while more than this many other backends are active. */
  readonly maxLoad?: number;
  /** Stop, checkpoint kept, when more than this many other backends are active. */
  readonly criticalLoad?: number;
  /** Pause while this file exists. */
  readonly pauseFile?: string;
  /** The command that resumes this backfill, for the message when it stops itself. */
  readonly resumeCommand?: string;
}

export interface StepResult {
  readonly migration: string;
  readonly table: string;
  readonly step: MigrationProgress;
  /** False when the step had already been done (idempotent re-run). */
  readonly changed: boolean;
  readonly message: string;
  /** Lock-timeout retries the DDL needed. */
  readonly lockRetries: number;
  /** Things the operator should know that did not stop the step (e.g. a BEFORE trigger that fires after the sync). */
  readonly warnings?: string[];
}

export interface BackfillResult extends StepResult {
  readonly rowsUpdated: number;
  readonly batches: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  /** The run stopped early (maxBatches) and can be resumed. */
  readonly complete: boolean;
  /** Longest and median batch statement, ms: each batch's row locks are held at most this long. */
  readonly longestBatchMs?: number;
  readonly medianBatchMs?: number;
  /** Rows a batch skipped because another transaction held them, backfilled on a later visit (or synced by that transaction's own write). */
  readonly revisitedRows?: number;
  /** Time spent paused by the throttle, seconds. */
  readonly pausedSeconds?: number;
}

export interface OperationVerify {
  readonly operation: string;
  readonly inconsistentRows: number;
  /** Up to 10 primary keys of inconsistent rows, as text. */
  readonly sampleKeys: string[];
  /**
   * Rows consistent only as old = down(new) while up(down(new)) <> new: what the new side wrote
   * does not survive a walk back to the old version (a lossy `down`). Fails `--for-app v1` and rollback.
   */
  readonly lossyRows?: number;
  readonly lossySampleKeys?: string[];
  /** An object check's way out (fix the data, build the index); absent for an operation's sync consistency. */
  readonly fix?: string;
  /** An object check's count: rows (sampleKeys are keys) or a missing index (sampleKeys name it). */
  readonly counts?: 'rows' | 'index';
  /** The check itself raised on some row (an object check whose condition fails on a value): not consistent. */
  readonly error?: string;
}

export interface VerifyReport {
  readonly migration: string;
  readonly table: string;
  readonly step: MigrationProgress;
  readonly ok: boolean;
  readonly rows: number;
  /** Rows the backfill has not reached yet. */
  readonly pendingRows: number;
  readonly pendingSampleKeys: string[];
  readonly operations: OperationVerify[];
  /** Rows whose sync raised in the trigger (`_tandem_pending` NULL): the write went through, `tandem repair` re-derives them. */
  readonly syncFailedRows?: number;
  readonly syncFailedSampleKeys?: string[];
  /** Rows on which an `up` or `down` expression raises when verify evaluates it (e.g. a cast that fails on one value), with the first error. */
  readonly raisingRows?: number;
  readonly raisingSampleKeys?: string[];
  readonly raisingError?: string;
  /** More than 1000 rows raise: ranges past those were counted whole, so raisingRows is an upper bound. */
  readonly raisingRowsBounded?: boolean;
  /** The app version verified for, if any. */
  readonly forApp?: AppVersion;
  readonly message: string;
}

export interface StatusReport {
  readonly migration: string;
  readonly table: string;
  readonly step: MigrationProgress;
  /** The spec on record differs from the one given. */
  readonly specChanged: boolean;
  readonly backfill: { readonly done: number; readonly pending: number | null; readonly lastKey: unknown[] | null };
  /** Rows whose sync raised in the trigger (`_tandem_pending` NULL), while the migration is expanded. */
  readonly syncFailedRows?: number | null;
  /** What a contract that did not complete left enforced (a unique index, a constraint) while the old version may still write. */
  readonly enforcedBeforeContract?: string[];
  /** What the catalog shows: does it agree with the recorded step? */
  readonly catalog: { readonly trigger: boolean; readonly newColumns: boolean; readonly oldColumns: boolean };
  readonly updatedAt: string | null;
  readonly message: string;
}

export type { MigrationSpec };
