import { performance } from 'perf_hooks';
import { UsageError } from '../phases/errors';
import { BACKFILL_SLICE_PROCEDURE, backfillBoundSql, backfillRangeSql, backfillRevisitSql, backfillSweepSql } from '../phases/sql/plan';
import { needsBackfill, PENDING_COLUMN, MigrationSpec } from '../phases/sql/spec';
import { quoteIdent, quoteQualified } from '../phases/sql/identifiers';
import { BackfillStoppedError, RowsHeldError } from './backfill-errors';
import { BatchSizer, DEFAULT_CHUNK_TIME_MS, DEFAULT_INITIAL_BATCH, MAX_BATCH, MIN_BATCH } from './batch-sizer';
import { querySingle } from './connection';
import { backoffMs, DEFAULT_DDL_DEADLINE_MS, DEFAULT_LOCK_TIMEOUT_MS, sleep } from './ddl-transaction';
import { LockTimeoutError, StepFailedError } from './errors';
import { openSession, recordedSpec } from './session';
import { recordBound, recordStep } from './state';
import { Throttle } from './throttle';
import { BackfillOptions, BackfillResult } from './types';

/** Fixed batches (an explicit batchSize without chunkTimeMs) have this size when none is given. */
export const DEFAULT_BATCH_SIZE = DEFAULT_INITIAL_BATCH;
export { DEFAULT_CHUNK_TIME_MS };

const RETRYABLE = new Set(['55P03', '40P01', '40001']);
const QUERY_CANCELED = '57014';
/** Keys per revisit statement. */
const REVISIT_KEYS = 1000;
/** Between throttle checks while running (the pause file is checked as often). */
const THROTTLE_CHECK_MS = 100;
const PAUSED_POLL_MS = 250;
/** How long one call of the server-side loop runs between the client's checks (throttle, progress). */
const SLICE_MS = 1000;
const THROTTLED_SLICE_MS = 250;

function checkPositive(name: string, v: number | undefined, integer = true): void {
  if (v === undefined) return;
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) throw new UsageError(`${name} must be a ${integer ? 'whole number' : 'number'} of at least 1`);
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
  checkPositive('--batch-size', options.batchSize);
  checkPositive('--chunk-time', options.chunkTimeMs);
  checkPositive('--max-lag', options.maxLagMs, false);
  checkPositive('--max-lag-bytes', options.maxLagBytes);
  checkPositive('--max-load', options.maxLoad);
  checkPositive('--critical-load', options.criticalLoad);
  const session = await openSession(spec, options, { lock: true });
  const started = Date.now();
  try {
    if (session.step === 'contracted' && session.state!.specHash === spec.hash) {
      // Re-running a step that is done is not an error (a Pulumi Command re-runs create on any input change).
      return { migration: spec.name, table: session.label, lockRetries: 0, step: 'contracted', changed: false, message: 'already contracted: nothing to backfill', rowsUpdated: 0, batches: 0, seconds: 0, rowsPerSecond: 0, complete: true };
    }
    const resolved = recordedSpec(session, spec, 'backfill');
    const { client } = session;
    const state = session.state!;
    const base = { migration: spec.name, table: session.label, lockRetries: 0 };
    if (state.step === 'backfilled') {
      return { ...base, step: 'backfilled', changed: false, message: 'already backfilled', rowsUpdated: 0, batches: 0, seconds: 0, rowsPerSecond: 0, complete: true };
    }
    if (!needsBackfill(resolved)) {
      // No new column takes its value from the rows (drop_column, constant defaults): record completion, write nothing.
      await recordStep(client, spec.name, 'backfilled', { rows: 0 });
      return { ...base, step: 'backfilled', changed: true, message: `nothing to backfill in ${session.label}: no new column takes its value from the existing rows`, rowsUpdated: 0, batches: 0, seconds: 0, rowsPerSecond: 0, complete: true };
    }
    // Fixed batches only when a size is asked for and no target time: the behaviour --batch-size always had.
    const chunkTime = options.chunkTimeMs ?? (options.batchSize !== undefined ? undefined : DEFAULT_CHUNK_TIME_MS);
    const sizer = new BatchSizer(chunkTime, options.batchSize ?? DEFAULT_INITIAL_BATCH);
    const throttle = new Throttle(client, options);
    await throttle.checkPrivileges(session.label, spec.name);
    const lockTimeout = Math.max(1, Math.floor(options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS));
    await client.query(`SET tandem.backfill = 'on'; SET lock_timeout = ${lockTimeout}`);
    // The batches run in a server-side loop (no round trip per batch) unless the caller sleeps
    // between batches, or the role may not create the loop in its temporary schema.
    let serverLoop = !options.throttleMs;
    if (serverLoop) {
      try {
        await client.query(BACKFILL_SLICE_PROCEDURE);
        // A killed client stops the server-side loop within 10 ms (the batch in flight rolls back).
        await client.query('SET client_connection_check_interval = 10');
      } catch (err: any) {
        if (typeof err?.code !== 'string') throw err;
        serverLoop = false;
        options.onProgress?.({ kind: 'info', message: `backfill ${session.label}: one round trip per batch (${err.message})` });
      }
    }
    // Client-side batches get a hard bound on one batch's row-lock hold: a batch far over its
    // target is cancelled (nothing of it commits) and retried smaller. The server-side loop sizes
    // every batch by the time the last ones took.
    const statementTimeout = chunkTime === undefined || serverLoop ? 0 : Math.max(5000, Math.round(100 * chunkTime));
    if (statementTimeout) await client.query(`SET statement_timeout = ${statementTimeout}`);

    let bound = state.backfillBound;
    if (!bound) {
      const r = await client.query(backfillBoundSql(resolved));
      bound = r.rows[0]?.key ?? null;
      await recordBound(client, spec.name, bound);
    }
    const t = quoteQualified(resolved.table.schema, resolved.table.name);
    const untimed = async <T>(fn: () => Promise<T>): Promise<T> => {
      if (!statementTimeout) return fn();
      await client.query('SET statement_timeout = 0');
      try {
        return await fn();
      } finally {
        await client.query(`SET statement_timeout = ${statementTimeout}`);
      }
    };
    const pendingAtStart = Number((await untimed(() => client.query(`SELECT count(*) AS n FROM ${t} WHERE ${quoteIdent(PENDING_COLUMN)}`))).rows[0].n);
    let lastKey = state.backfillLastKey;
    let rowsUpdated = 0;
    let revisitedRows = 0;
    let batches = 0;
    let retries = 0;
    let exhausted = !bound;
    const holds: number[] = [];
    /** When the current batch first hit a lock timeout: retries of one batch stop at the DDL deadline. */
    let waitingSince: number | undefined;
    let attempt = 0;
    const deadline = options.ddlDeadlineMs ?? DEFAULT_DDL_DEADLINE_MS;
    const rangeSql = [backfillRangeSql(resolved, false), backfillRangeSql(resolved, true)];
    const revisitSql = backfillRevisitSql(resolved);
    const sweepSql = backfillSweepSql(resolved);
    let lastReport = Date.now();
    const report = () => {
      lastReport = Date.now();
      const seconds = (Date.now() - started) / 1000;
      options.onProgress?.({
        kind: 'backfill',
        message: `backfill ${session.label}: ${rowsUpdated}/${pendingAtStart} rows`,
        done: rowsUpdated,
        total: pendingAtStart,
        rowsPerSecond: seconds > 0 ? rowsUpdated / seconds : 0,
      });
    };

    let lastCheck = 0;
    let pausedMs = 0;
    /** Throttle between batches: pause while a limit is exceeded, stop (checkpoint kept) at critical load. */
    const gate = async () => {
      if (!throttle.active || Date.now() - lastCheck < THROTTLE_CHECK_MS) return;
      lastCheck = Date.now();
      let verdict = await throttle.check();
      if (!verdict.pause && !verdict.stop) return;
      const pausedAt = Date.now();
      let said = '';
      let saidAt = 0;
      while (verdict.pause && !verdict.stop) {
        if (verdict.pause !== said || Date.now() - saidAt >= 5000) {
          options.onProgress?.({ kind: 'info', message: `backfill ${session.label} paused: ${verdict.pause}` });
          said = verdict.pause;
          saidAt = Date.now();
        }
        await sleep(PAUSED_POLL_MS);
        verdict = await throttle.check();
      }
      if (verdict.stop) throw new BackfillStoppedError(verdict.stop, session.label, rowsUpdated, options.resumeCommand, spec.name);
      pausedMs += Date.now() - pausedAt;
      options.onProgress?.({ kind: 'info', message: `backfill ${session.label} resumed after ${((Date.now() - pausedAt) / 1000).toFixed(1)} s paused` });
    };

    /** A statement failed: retry lock timeouts up to the deadline, fail (checkpoint kept) on anything else. */
    const onError = async (err: any, where: string): Promise<void> => {
      if (RETRYABLE.has(err?.code)) {
        retries++;
        waitingSince ??= Date.now();
        if (Date.now() - waitingSince > deadline) throw new LockTimeoutError(session.label, retries, [`table locks held while running ${where}`]);
        options.onProgress?.({ kind: 'lock_wait', message: `backfill ${where} waited too long on a table lock; retrying` });
        await sleep(backoffMs(attempt++));
        return;
      }
      if (typeof err?.code === 'string') {
        // e.g. an `up` expression that fails on some row's data: name the batch, keep the checkpoint.
        throw new StepFailedError('backfill', where, `${err.message}; the batches before it stay committed and the checkpoint is kept, so fix the data (tandem verify names the rows it raises on) or the spec (tandem rollback works at any point before contract) and run backfill again`, err.code);
      }
      throw err;
    };

    const doneAtStart = state.backfillDone;
    /** After a failed slice: the batches before the failing one committed; take their checkpoint. */
    const reread = async () => {
      const r = await client.query(`SELECT backfill_last_key, backfill_done FROM tandem.migrations WHERE name = $1`, [spec.name]);
      if (r.rows[0]) {
        lastKey = r.rows[0].backfill_last_key;
        rowsUpdated = Number(r.rows[0].backfill_done) - doneAtStart;
      }
    };
    const boundJson = JSON.stringify(bound);
    while (bound) {
      if (options.maxBatches !== undefined && batches >= options.maxBatches) break;
      await gate();
      const where = () => (lastKey ? `the batch after key ${lastKey.join(', ')}` : 'the first batch');
      if (serverLoop) {
        let slice: { after: string[]; size: number; rate: number | null; updated: string; batches: number; last: boolean; hold_ms: number[] };
        try {
          slice = (
            await querySingle(client, 'CALL pg_temp.tandem_backfill_slice($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, NULL, NULL, NULL)', [
              rangeSql[0],
              rangeSql[1],
              boundJson,
              spec.name,
              sizer.fixed ? null : sizer.targetMs,
              MIN_BATCH,
              MAX_BATCH,
              throttle.active ? THROTTLED_SLICE_MS : SLICE_MS,
              options.maxBatches === undefined ? 2_000_000_000 : options.maxBatches - batches,
              lastKey ? JSON.stringify(lastKey) : null,
              sizer.next(),
              sizer.rowsPerMs ?? null,
            ])
          ).rows[0];
        } catch (err: any) {
          await reread();
          await onError(err, where());
          continue;
        }
        sizer.restore(slice.size, slice.rate);
        holds.push(...slice.hold_ms.map(Number));
        batches += slice.batches;
        waitingSince = undefined;
        attempt = 0;
        lastKey = slice.after;
        rowsUpdated += Number(slice.updated);
        if (slice.last) {
          exhausted = true;
          break;
        }
        if (Date.now() - lastReport >= 1000) report();
        continue;
      }
      const size = sizer.next();
      const t0 = performance.now();
      let row: { updated: number; taken: number; last: boolean; top: string[] };
      try {
        // The batch and its checkpoint are one statement: a killed run resumes exactly after the last committed batch.
        row = (await querySingle(client, rangeSql[lastKey ? 1 : 0], lastKey ? [size, JSON.stringify(lastKey), boundJson, spec.name] : [size, boundJson, spec.name])).rows[0];
      } catch (err: any) {
        if (err?.code === QUERY_CANCELED && statementTimeout && sizer.shrink()) {
          options.onProgress?.({ kind: 'info', message: `backfill ${where()} ran over ${statementTimeout} ms and was cancelled; retrying with ${sizer.next()} rows` });
          continue;
        }
        await onError(err, where());
        continue;
      }
      const ms = performance.now() - t0;
      if (!row) throw new StepFailedError('backfill', 'the checkpoint', `the migration ${spec.name} is no longer recorded in tandem.migrations`);
      holds.push(ms);
      sizer.record(row.taken, size, ms);
      batches++;
      waitingSince = undefined;
      attempt = 0;
      lastKey = row.top;
      rowsUpdated += row.updated;
      if (row.last) {
        exhausted = true;
        break;
      }
      if (Date.now() - lastReport >= 1000) report();
      if (options.throttleMs) await sleep(options.throttleMs);
    }

    // Revisit: every row still pending (skipped because another transaction held it, here or in a
    // run that was killed), with backoff, until none is left or the deadline passes.
    while (exhausted) {
      const swept: any = await untimed(() => querySingle(client, sweepSql, [REVISIT_KEYS]));
      const keys: string[][] = swept.rows.map((r: any) => r.key);
      if (!keys.length) break;
      let remaining = keys;
      const since = Date.now();
      let visits = 0;
      while (remaining.length) {
        await gate();
        const t0 = performance.now();
        let row: { updated: number; left_keys: string[][] };
        try {
          row = (await querySingle(client, revisitSql, [JSON.stringify(remaining), spec.name])).rows[0];
        } catch (err: any) {
          await onError(err, `the revisit of key ${remaining[0].join(', ')}${remaining.length > 1 ? ` and ${remaining.length - 1} more` : ''}`);
          continue;
        }
        holds.push(performance.now() - t0);
        waitingSince = undefined;
        rowsUpdated += row.updated;
        revisitedRows += row.updated;
        remaining = row.left_keys;
        if (!remaining.length) break;
        if (Date.now() - since > deadline) throw new RowsHeldError(session.label, remaining, (Date.now() - since) / 1000, options.resumeCommand);
        if (visits % 10 === 0) {
          options.onProgress?.({ kind: 'lock_wait', message: `backfill ${session.label}: ${remaining.length} row${remaining.length === 1 ? '' : 's'} held by other transactions (key ${remaining[0].join(', ')}); revisiting` });
        }
        await sleep(backoffMs(visits++, 20, 1000));
      }
    }

    const complete = exhausted;
    if (complete) await recordStep(client, spec.name, 'backfilled', { rows: rowsUpdated, run_ms: Date.now() - started });
    report();
    const seconds = (Date.now() - started) / 1000;
    const sorted = [...holds].sort((a, b) => a - b);
    return {
      ...base,
      lockRetries: retries,
      step: complete ? 'backfilled' : 'backfilling',
      changed: rowsUpdated > 0,
      message: complete ? `backfilled ${rowsUpdated} rows of ${session.label} in ${batches} batches` : `stopped after ${batches} batches (${rowsUpdated} rows); run backfill again to resume`,
      rowsUpdated,
      batches,
      seconds,
      rowsPerSecond: seconds > 0 ? rowsUpdated / seconds : 0,
      complete,
      longestBatchMs: sorted.length ? Math.round(sorted[sorted.length - 1] * 10) / 10 : 0,
      medianBatchMs: sorted.length ? Math.round(sorted[Math.floor(sorted.length / 2)] * 10) / 10 : 0,
      revisitedRows,
      pausedSeconds: Math.round(pausedMs / 100) / 10,
    };
  } finally {
    await session.close();
  }
}
