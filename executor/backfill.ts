import { performance } from 'perf_hooks';
import { UsageError } from '../phases/errors';
import {
  BACKFILL_SLICE_PROCEDURE,
  backfillBoundSql,
  backfillRangeSql,
  backfillRevisitSql,
  backfillSweepSql,
} from '../phases/sql/plan';
import { needsBackfill, PENDING_COLUMN, MigrationSpec, ResolvedSpec } from '../phases/sql/spec';
import { quoteIdent, quoteQualified } from '../phases/sql/identifiers';
import { RowsHeldError } from './backfill-errors';
import { BackfillRetryPolicy } from './backfill-retry';
import { BackfillThrottleWait } from './backfill-throttle-wait';
import { BatchSizer, DEFAULT_CHUNK_TIME_MS, DEFAULT_INITIAL_BATCH, MAX_BATCH, MIN_BATCH } from './batch-sizer';
import { querySingle } from './connection';
import { backoffMs, DEFAULT_DDL_DEADLINE_MS, DEFAULT_LOCK_TIMEOUT_MS, sleep } from './ddl-transaction';
import { StepFailedError } from './errors';
import { dropPendingTrigger, PendingTriggerOutcome } from './pending-trigger';
import { openSession, recordedSpec, Session } from './session';
import { recordBound, recordStep } from './state';
import { Throttle } from './throttle';
import { BackfillOptions, BackfillResult } from './types';
import { errorCode, errorMessage } from '../phases/error-fields';

/** Fixed batches (an explicit batchSize without chunkTimeMs) have this size when none is given. */
export const DEFAULT_BATCH_SIZE = DEFAULT_INITIAL_BATCH;
export { DEFAULT_CHUNK_TIME_MS };

const QUERY_CANCELED = '57014';
/** Keys per revisit statement. */
const REVISIT_KEYS = 1000;
/** Between throttle checks while running (the pause file is checked as often). */
const THROTTLE_CHECK_MS = 100;
const PAUSED_POLL_MS = 250;
/** How long one call of the server-side loop runs between the client's checks (throttle, progress). */
const SLICE_MS = 1000;
const THROTTLED_SLICE_MS = 250;

function checkPositive(name: string, v: number | undefined, { integer = true }: { integer?: boolean } = {}): void {
  if (v === undefined) return;
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
    throw new UsageError(`${name} must be a ${integer ? 'whole number' : 'number'} of at least 1`);
}

function checkBackfillOptions(options: BackfillOptions): void {
  checkPositive('--batch-size', options.batchSize);
  checkPositive('--chunk-time', options.chunkTimeMs);
  checkPositive('--max-lag', options.maxLagMs, { integer: false });
  checkPositive('--max-lag-bytes', options.maxLagBytes);
  checkPositive('--max-load', options.maxLoad);
  checkPositive('--critical-load', options.criticalLoad);
}

/**
 * Backfill: keyset batches by primary key up to the bound taken at the first run (rows inserted
 * later are synced by the trigger, so it ends under any insert load). Each batch is ONE
 * autocommit statement: it locks the next rows still pending with FOR UPDATE SKIP LOCKED, fills
 * them with the same `up` expressions the trigger uses, and moves the checkpoint, so a killed run
 * resumes where it stopped, and the backfill never waits on a row lock while holding others (it
 * cannot be part of a deadlock). Rows another transaction held are skipped and stay marked
 * pending; after the last batch a sweep finds every row still pending (those skipped, also by a
 * run that was killed) and revisits them with backoff, until none is left: most were synced by
 * the trigger when the holder's write committed. Batches are sized by time (chunkTimeMs).
 *
 * The connection is the executor's own, never pooled: `tandem.backfill`, `lock_timeout` and
 * `statement_timeout` are set for the session and end with it.
 */
export async function backfill(spec: MigrationSpec, options: BackfillOptions): Promise<BackfillResult> {
  checkBackfillOptions(options);
  const session = await openSession(spec, options, { lock: true });
  const started = Date.now();
  try {
    const done = await alreadyDone(session, spec);
    if (done) {
      // A run that stopped between dropping the pending trigger and recording completion, or the reverse.
      if (done.step === 'backfilled' && session.state?.resolved)
        return withPendingTrigger(
          done,
          await dropPendingTrigger(session.client, session.state.resolved, tableRef(session), options),
        );
      return done;
    }
    const resolved = recordedSpec(session, spec, 'backfill');
    if (!needsBackfill(resolved)) {
      const dropped = await dropPendingTrigger(session.client, resolved, tableRef(session), options);
      return withPendingTrigger(await recordNothingToBackfill(session, spec), dropped);
    }
    const run = await BackfillRun.start(session, spec, resolved, options, started);
    await run.batches();
    if (run.exhausted) await run.revisit();
    // Before completion is recorded: a crash in between leaves a run that finds no row and records it.
    const dropped = run.exhausted
      ? await dropPendingTrigger(session.client, resolved, tableRef(session), options)
      : undefined;
    return withPendingTrigger(await run.finish(), dropped);
  } finally {
    await session.close();
  }
}

function tableRef(session: Session): { oid: number; label: string } {
  return { oid: session.table.oid, label: session.label };
}

/** The result's message says when the pending trigger was due to go but stays (a busy table, a refused DROP). */
function withPendingTrigger(result: BackfillResult, outcome: PendingTriggerOutcome | undefined): BackfillResult {
  if (typeof outcome === 'object')
    return {
      ...result,
      message: `${result.message}; the pending trigger stays (${outcome.kept}): run backfill again to drop it`,
    };
  return result;
}

function emptyResult(
  spec: MigrationSpec,
  session: Session,
  step: 'contracted' | 'backfilled',
  changed: boolean,
  message: string,
): BackfillResult {
  return {
    migration: spec.name,
    table: session.label,
    lockRetries: 0,
    step,
    changed,
    message,
    rowsUpdated: 0,
    batches: 0,
    seconds: 0,
    rowsPerSecond: 0,
    complete: true,
  };
}

/** A re-run of a step that is done is not an error (a Pulumi Command re-runs create on any input change). */
async function alreadyDone(session: Session, spec: MigrationSpec): Promise<BackfillResult | undefined> {
  if (session.step === 'contracted' && session.state!.specHash === spec.hash)
    return emptyResult(spec, session, 'contracted', false, 'already contracted: nothing to backfill');
  if (session.state?.step === 'backfilled')
    return emptyResult(spec, session, 'backfilled', false, 'already backfilled');
  return undefined;
}

/** No new column takes its value from the rows (drop_column, constant defaults): record completion, write nothing. */
async function recordNothingToBackfill(session: Session, spec: MigrationSpec): Promise<BackfillResult> {
  await recordStep(session.client, spec.name, 'backfilled', { rows: 0 });
  return emptyResult(
    spec,
    session,
    'backfilled',
    true,
    `nothing to backfill in ${session.label}: no new column takes its value from the existing rows`,
  );
}

interface SliceRow {
  after: string[];
  size: number;
  rate: number | null;
  updated: string;
  batches: number;
  last: boolean;
  hold_ms: number[];
}

interface BatchRow {
  updated: number;
  taken: number;
  last: boolean;
  top: string[];
}

/**
 * One backfill run, its state explicit: the batches (a server-side loop in slices, or one
 * client round trip per batch), the revisit of rows other transactions held, the throttle wait
 * between batches, the retry policy, and the progress reports.
 */
class BackfillRun {
  /** The checkpoint: the last key a committed batch reached. */
  private lastKey: string[] | null;
  private rowsUpdated = 0;
  private revisitedRows = 0;
  private batchCount = 0;
  /** Every row up to the bound was visited: the revisit pass and completion follow. */
  exhausted: boolean;
  /** How long each batch held its row locks, ms. */
  private readonly holds: number[] = [];
  private lastReport = Date.now();
  private readonly sql: { range: [string, string]; revisit: string; sweep: string };
  private readonly boundJson: string;
  private readonly doneAtStart: number;
  private readonly retry: BackfillRetryPolicy;
  private readonly throttleWait: BackfillThrottleWait;
  /** How long one batch may wait on locks, and the revisit on held rows, ms. */
  private readonly deadlineMs: number;

  private constructor(
    private readonly session: Session,
    private readonly spec: MigrationSpec,
    private readonly options: BackfillOptions,
    private readonly started: number,
    private readonly sizer: BatchSizer,
    private readonly throttle: Throttle,
    /** The batches run in a server-side loop (no round trip per batch). */
    private readonly serverLoop: boolean,
    /** A client batch's bound on its row-lock hold, ms (0: none). */
    private readonly statementTimeout: number,
    private readonly bound: string[] | null,
    private readonly pendingAtStart: number,
    resolved: ResolvedSpec,
  ) {
    const state = session.state!;
    this.lastKey = state.backfillLastKey;
    this.doneAtStart = state.backfillDone;
    this.exhausted = !bound;
    this.boundJson = JSON.stringify(bound);
    this.sql = {
      range: [backfillRangeSql(resolved, false), backfillRangeSql(resolved, true)],
      revisit: backfillRevisitSql(resolved),
      sweep: backfillSweepSql(resolved),
    };
    this.deadlineMs = options.ddlDeadlineMs ?? DEFAULT_DDL_DEADLINE_MS;
    this.retry = new BackfillRetryPolicy(session.label, this.deadlineMs, options.onProgress);
    this.throttleWait = new BackfillThrottleWait(
      throttle,
      { checkMs: THROTTLE_CHECK_MS, pausedPollMs: PAUSED_POLL_MS },
      session.label,
      spec.name,
      options,
    );
  }

  /** Set the session up (throttle privileges, settings, the server-side loop), take the bound, count the rows pending. */
  static async start(
    session: Session,
    spec: MigrationSpec,
    resolved: ResolvedSpec,
    options: BackfillOptions,
    started: number,
  ): Promise<BackfillRun> {
    const { client } = session;
    // Fixed batches only when a size is asked for and no target time: the behaviour --batch-size always had.
    const chunkTime = options.chunkTimeMs ?? (options.batchSize !== undefined ? undefined : DEFAULT_CHUNK_TIME_MS);
    const sizer = new BatchSizer(chunkTime, options.batchSize ?? DEFAULT_INITIAL_BATCH);
    const throttle = new Throttle(client, options);
    await throttle.checkPrivileges(session.label, spec.name);
    const lockTimeout = Math.max(1, Math.floor(options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS));
    await client.query(`SET tandem.backfill = 'on'; SET lock_timeout = ${lockTimeout}`);
    const serverLoop = await createServerLoop(session, options);
    // Client-side batches get a hard bound on one batch's row-lock hold: a batch far over its
    // target is cancelled (nothing of it commits) and retried smaller. The server-side loop sizes
    // every batch by the time the last ones took.
    const statementTimeout = chunkTime === undefined || serverLoop ? 0 : Math.max(5000, Math.round(100 * chunkTime));
    if (statementTimeout) await client.query(`SET statement_timeout = ${statementTimeout}`);
    const bound = await takeBound(session, spec, resolved);
    const t = quoteQualified(resolved.table.schema, resolved.table.name);
    const pendingAtStart = Number(
      (
        await untimed(session, statementTimeout, () =>
          client.query(`SELECT count(*) AS n FROM ${t} WHERE ${quoteIdent(PENDING_COLUMN)}`),
        )
      ).rows[0].n,
    );
    return new BackfillRun(
      session,
      spec,
      options,
      started,
      sizer,
      throttle,
      serverLoop,
      statementTimeout,
      bound,
      pendingAtStart,
      resolved,
    );
  }

  /** The batches up to the bound, until the last one, or maxBatches. */
  async batches(): Promise<void> {
    while (this.bound) {
      if (this.options.maxBatches !== undefined && this.batchCount >= this.options.maxBatches) break;
      await this.throttleWait.wait(this.rowsUpdated);
      const last = this.serverLoop ? await this.slice() : await this.clientBatch();
      if (last) {
        this.exhausted = true;
        break;
      }
    }
  }

  private get client(): Session['client'] {
    return this.session.client;
  }

  private where(): string {
    return this.lastKey ? `the batch after key ${this.lastKey.join(', ')}` : 'the first batch';
  }

  /** One call of the server-side loop: batches for about a second; true when it ran the last one. */
  private async slice(): Promise<boolean> {
    let slice: SliceRow;
    try {
      slice = (
        await querySingle(
          this.client,
          'CALL pg_temp.tandem_backfill_slice($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, NULL, NULL, NULL)',
          this.sliceParams(),
        )
      ).rows[0];
    } catch (err) {
      await this.reread();
      await this.retry.onError(err, this.where());
      return false;
    }
    this.sizer.restore(slice.size, slice.rate);
    this.holds.push(...slice.hold_ms.map(Number));
    this.batchCount += slice.batches;
    this.retry.succeeded();
    this.lastKey = slice.after;
    this.rowsUpdated += Number(slice.updated);
    if (slice.last) return true;
    this.reportEverySecond();
    return false;
  }

  private sliceParams(): unknown[] {
    const { options, sizer } = this;
    return [
      this.sql.range[0],
      this.sql.range[1],
      this.boundJson,
      this.spec.name,
      sizer.fixed ? null : sizer.targetMs,
      MIN_BATCH,
      MAX_BATCH,
      this.throttle.active ? THROTTLED_SLICE_MS : SLICE_MS,
      options.maxBatches === undefined ? 2_000_000_000 : options.maxBatches - this.batchCount,
      this.lastKey ? JSON.stringify(this.lastKey) : null,
      sizer.next(),
      sizer.rowsPerMs ?? null,
    ];
  }

  /** One batch from the client, a round trip: true when it was the last one. */
  private async clientBatch(): Promise<boolean> {
    const { sizer, lastKey } = this;
    const size = sizer.next();
    const t0 = performance.now();
    let row: BatchRow;
    try {
      // The batch and its checkpoint are one statement: a killed run resumes exactly after the last committed batch.
      row = (
        await querySingle(
          this.client,
          this.sql.range[lastKey ? 1 : 0],
          lastKey
            ? [size, JSON.stringify(lastKey), this.boundJson, this.spec.name]
            : [size, this.boundJson, this.spec.name],
        )
      ).rows[0];
    } catch (err) {
      if (errorCode(err) === QUERY_CANCELED && this.statementTimeout && sizer.shrink()) {
        this.options.onProgress?.({
          kind: 'info',
          message: `backfill ${this.where()} ran over ${this.statementTimeout} ms and was cancelled; retrying with ${sizer.next()} rows`,
        });
        return false;
      }
      await this.retry.onError(err, this.where());
      return false;
    }
    const ms = performance.now() - t0;
    if (!row)
      throw new StepFailedError(
        'backfill',
        'the checkpoint',
        `the migration ${this.spec.name} is no longer recorded in tandem.migrations`,
      );
    this.holds.push(ms);
    sizer.record(row.taken, size, ms);
    this.batchCount++;
    this.retry.succeeded();
    this.lastKey = row.top;
    this.rowsUpdated += row.updated;
    if (row.last) return true;
    this.reportEverySecond();
    if (this.options.throttleMs) await sleep(this.options.throttleMs);
    return false;
  }

  /** After a failed slice: the batches before the failing one committed; take their checkpoint. */
  private async reread(): Promise<void> {
    const r = await this.client.query(
      `SELECT backfill_last_key, backfill_done FROM tandem.migrations WHERE name = $1`,
      [this.spec.name],
    );
    if (r.rows[0]) {
      this.lastKey = r.rows[0].backfill_last_key;
      this.rowsUpdated = Number(r.rows[0].backfill_done) - this.doneAtStart;
    }
  }

  /**
   * Revisit: every row still pending (skipped because another transaction held it, here or in a
   * run that was killed), with backoff, until none is left or the deadline passes.
   */
  async revisit(): Promise<void> {
    for (;;) {
      const swept = await untimed(this.session, this.statementTimeout, () =>
        querySingle(this.client, this.sql.sweep, [REVISIT_KEYS]),
      );
      const keys: string[][] = swept.rows.map((r: { key: string[] }) => r.key);
      if (!keys.length) return;
      await this.revisitKeys(keys);
    }
  }

  /** Revisit these keys until none is left, backing off while other transactions hold them. */
  private async revisitKeys(keys: string[][]): Promise<void> {
    let remaining = keys;
    const since = Date.now();
    let visits = 0;
    while (remaining.length) {
      await this.throttleWait.wait(this.rowsUpdated);
      const t0 = performance.now();
      let row: { updated: number; left_keys: string[][] };
      try {
        row = (await querySingle(this.client, this.sql.revisit, [JSON.stringify(remaining), this.spec.name])).rows[0];
      } catch (err) {
        await this.retry.onError(
          err,
          `the revisit of key ${remaining[0].join(', ')}${remaining.length > 1 ? ` and ${remaining.length - 1} more` : ''}`,
        );
        continue;
      }
      this.holds.push(performance.now() - t0);
      this.retry.waitEnded();
      this.rowsUpdated += row.updated;
      this.revisitedRows += row.updated;
      remaining = row.left_keys;
      if (!remaining.length) break;
      if (Date.now() - since > this.deadlineMs)
        throw new RowsHeldError(this.session.label, remaining, (Date.now() - since) / 1000, this.options.resumeCommand);
      if (visits % 10 === 0) {
        this.options.onProgress?.({
          kind: 'lock_wait',
          message: `backfill ${this.session.label}: ${remaining.length} row${remaining.length === 1 ? '' : 's'} held by other transactions (key ${remaining[0].join(', ')}); revisiting`,
        });
      }
      await sleep(backoffMs(visits++, 20, 1000));
    }
  }

  private reportEverySecond(): void {
    if (Date.now() - this.lastReport >= 1000) this.report();
  }

  private report(): void {
    this.lastReport = Date.now();
    const seconds = (Date.now() - this.started) / 1000;
    this.options.onProgress?.({
      kind: 'backfill',
      message: `backfill ${this.session.label}: ${this.rowsUpdated}/${this.pendingAtStart} rows`,
      done: this.rowsUpdated,
      total: this.pendingAtStart,
      rowsPerSecond: seconds > 0 ? this.rowsUpdated / seconds : 0,
    });
  }

  /** Record completion (when every row is done), report, and say what the run did. */
  async finish(): Promise<BackfillResult> {
    const { rowsUpdated, batchCount: batches, spec, session } = this;
    const complete = this.exhausted;
    if (complete)
      await recordStep(this.client, spec.name, 'backfilled', { rows: rowsUpdated, run_ms: Date.now() - this.started });
    this.report();
    const seconds = (Date.now() - this.started) / 1000;
    const sorted = [...this.holds].sort((a, b) => a - b);
    return {
      migration: spec.name,
      table: session.label,
      lockRetries: this.retry.retries,
      step: complete ? 'backfilled' : 'backfilling',
      changed: rowsUpdated > 0,
      message: complete
        ? `backfilled ${rowsUpdated} rows of ${session.label} in ${batches} batches`
        : `stopped after ${batches} batches (${rowsUpdated} rows); run backfill again to resume`,
      rowsUpdated,
      batches,
      seconds,
      rowsPerSecond: seconds > 0 ? rowsUpdated / seconds : 0,
      complete,
      longestBatchMs: sorted.length ? Math.round(sorted[sorted.length - 1] * 10) / 10 : 0,
      medianBatchMs: sorted.length ? Math.round(sorted[Math.floor(sorted.length / 2)] * 10) / 10 : 0,
      revisitedRows: this.revisitedRows,
      pausedSeconds: Math.round(this.throttleWait.pausedMs / 100) / 10,
    };
  }
}

/**
 * Create the server-side loop in the session's temporary schema: false when the caller sleeps
 * between batches, or the role may not create it there (one round trip per batch then).
 */
async function createServerLoop(session: Session, options: BackfillOptions): Promise<boolean> {
  if (options.throttleMs) return false;
  try {
    await session.client.query(BACKFILL_SLICE_PROCEDURE);
    // A killed client stops the server-side loop within 10 ms (the batch in flight rolls back).
    await session.client.query('SET client_connection_check_interval = 10');
    return true;
  } catch (err) {
    if (typeof errorCode(err) !== 'string') throw err;
    options.onProgress?.({
      kind: 'info',
      message: `backfill ${session.label}: one round trip per batch (${errorMessage(err)})`,
    });
    return false;
  }
}

/** The largest key at the first run (recorded; later runs keep it): rows inserted after it are the trigger's. */
async function takeBound(session: Session, spec: MigrationSpec, resolved: ResolvedSpec): Promise<string[] | null> {
  const recorded = session.state!.backfillBound;
  if (recorded) return recorded;
  const r = await session.client.query(backfillBoundSql(resolved));
  const bound = r.rows[0]?.key ?? null;
  await recordBound(session.client, spec.name, bound);
  return bound;
}

/** Run fn without the batches' statement timeout (counting and sweeping scan the table). */
async function untimed<T>(session: Session, statementTimeout: number, fn: () => Promise<T>): Promise<T> {
  if (!statementTimeout) return fn();
  await session.client.query('SET statement_timeout = 0');
  try {
    return await fn();
  } finally {
    await session.client.query(`SET statement_timeout = ${statementTimeout}`);
  }
}
