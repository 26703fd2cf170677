import { UsageError } from '../phases/errors';
import { backfillBoundSql, backfillRangeSql, backfillTopKeySql } from '../phases/sql/plan';
import { needsBackfill, PENDING_COLUMN, MigrationSpec } from '../phases/sql/spec';
import { quoteIdent, quoteQualified } from '../phases/sql/identifiers';
import { backoffMs, DEFAULT_DDL_DEADLINE_MS, DEFAULT_LOCK_TIMEOUT_MS, sleep } from './ddl-transaction';
import { LockTimeoutError, StepFailedError } from './errors';
import { openSession, recordedSpec } from './session';
import { checkpointStatement, recordBound, recordStep } from './state';
import { BackfillOptions, BackfillResult } from './types';

export const DEFAULT_BATCH_SIZE = 1000;

const RETRYABLE = new Set(['55P03', '40P01', '40001']);

/**
 * Backfill: keyset batches by primary key up to the bound taken at the first run (rows inserted
 * later are synced by the trigger, so it ends under any insert load). Each batch is one short
 * transaction that also advances the checkpoint, so a killed run resumes where it stopped. Only
 * rows still marked pending are touched, with the same `up` expressions the trigger uses; the
 * old columns are never written.
 */
export async function backfill(spec: MigrationSpec, options: BackfillOptions): Promise<BackfillResult> {
  const session = await openSession(spec, options, true);
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
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError('--batch-size must be a whole number of at least 1');
    let bound = state.backfillBound;
    if (!bound) {
      const r = await client.query(backfillBoundSql(resolved));
      bound = r.rows[0]?.key ?? null;
      await recordBound(client, spec.name, bound);
    }
    const t = quoteQualified(resolved.table.schema, resolved.table.name);
    const pendingAtStart = Number((await client.query(`SELECT count(*) AS n FROM ${t} WHERE ${quoteIdent(PENDING_COLUMN)}`)).rows[0].n);
    let lastKey = state.backfillLastKey;
    let rowsUpdated = 0;
    let batches = 0;
    let retries = 0;
    let exhausted = !bound;
    /** When the current batch first hit a lock timeout: retries of one batch stop at the DDL deadline. */
    let waitingSince: number | undefined;
    let attempt = 0;
    const lockTimeout = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    const topSql = [backfillTopKeySql(resolved, false), backfillTopKeySql(resolved, true)];
    const k = resolved.table.primaryKey.length;
    const rangeSql = [checkpointStatement(backfillRangeSql(resolved, false), k), checkpointStatement(backfillRangeSql(resolved, true), 2 * k)];
    const begin = `BEGIN; SET LOCAL tandem.backfill = 'on'; SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeout))}`;
    const report = () => {
      const seconds = (Date.now() - started) / 1000;
      options.onProgress?.({
        kind: 'backfill',
        message: `backfill ${session.label}: ${rowsUpdated}/${pendingAtStart} rows`,
        done: rowsUpdated,
        total: pendingAtStart,
        rowsPerSecond: seconds > 0 ? rowsUpdated / seconds : 0,
      });
    };
    while (bound) {
      if (options.maxBatches !== undefined && batches >= options.maxBatches) break;
      let updated: number;
      let top: string[];
      let last: boolean;
      try {
        await client.query(begin);
        const after = lastKey ? lastKey : [];
        const found = await client.query(topSql[lastKey ? 1 : 0], [batchSize - 1, ...after, ...bound]);
        last = found.rows.length === 0;
        top = last ? bound : found.rows[0].key;
        // The batch and its checkpoint are one statement: a killed run resumes exactly after the last committed batch.
        const r = await client.query(rangeSql[lastKey ? 1 : 0], [...after, ...top, spec.name, JSON.stringify(top)]);
        updated = r.rows[0].updated;
        await client.query('COMMIT');
      } catch (err: any) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (RETRYABLE.has(err?.code)) {
          retries++;
          waitingSince ??= Date.now();
          if (Date.now() - waitingSince > (options.ddlDeadlineMs ?? DEFAULT_DDL_DEADLINE_MS)) {
            throw new LockTimeoutError(session.label, retries, [`row locks held on the batch after key ${lastKey ? lastKey.join(', ') : '(start)'}`]);
          }
          options.onProgress?.({ kind: 'lock_wait', message: `backfill batch after key ${JSON.stringify(lastKey)} waited too long on row locks; retrying` });
          await sleep(backoffMs(attempt++));
          continue;
        }
        if (typeof err?.code === 'string') {
          // e.g. an `up` expression that fails on some row's data: name the batch, keep the checkpoint.
          const where = lastKey ? `the batch after key ${lastKey.join(', ')}` : 'the first batch';
          throw new StepFailedError('backfill', where, `${err.message}; the checkpoint is kept, so fix the data or the spec and run backfill again`, err.code);
        }
        throw err;
      }
      batches++;
      waitingSince = undefined;
      attempt = 0;
      lastKey = top;
      rowsUpdated += updated;
      if (last) {
        exhausted = true;
        break;
      }
      if (batches % 10 === 0) report();
      if (options.throttleMs) await sleep(options.throttleMs);
    }
    const complete = exhausted;
    if (complete) await recordStep(client, spec.name, 'backfilled', { rows: rowsUpdated });
    report();
    const seconds = (Date.now() - started) / 1000;
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
    };
  } finally {
    await session.close();
  }
}
