import { Client } from 'pg';
import { PENDING_COLUMN, ResolvedSpec } from '../phases/sql/spec';
import { quoteIdent } from '../phases/sql/identifiers';
import { syncTriggers, table } from '../phases/sql/plan';
import { triggerExists } from './catalog';
import { runDdlTransaction } from './ddl-transaction';
import { ConnectionLostError, LockTimeoutError } from './errors';
import { ExecutorOptions } from './types';
import { errorMessage } from '../phases/error-fields';

/** How long the backfill tries for the lock to drop the pending trigger before leaving it in place. */
const DROP_DEADLINE_MS = 10_000;

/**
 * The pending trigger (`..._zp`) derives the new side of a row the backfill has not reached yet
 * when an app's UPDATE meets it; its WHEN costs every UPDATE of the table (docs/performance.md).
 * Once no row is pending it has nothing left to do, and none becomes pending again: only expand's
 * ADD COLUMN gives existing rows `true`, the column's default is `false` from then on, and every
 * Tandem write sets it false or NULL. So the backfill drops it when it leaves no pending row.
 *
 * The check reads the table without a lock of note; the DROP (ACCESS EXCLUSIVE in PostgreSQL 15)
 * runs under lock_timeout with retries for a short while, and when the table stays busy (or the
 * database refuses the DROP) the trigger is left (it costs, it is not wrong) and the next run of
 * backfill tries again. Both states are
 * consistent at every point: contract and rollback drop it IF EXISTS, verify and repair never rely
 * on it. Returns what happened, for the result's message.
 */
/** What happened to the pending trigger; `kept` says why a drop that was due did not happen. */
export type PendingTriggerOutcome = 'dropped' | 'absent' | 'rows pending' | { readonly kept: string };

export async function dropPendingTrigger(
  client: Client,
  resolved: ResolvedSpec,
  tableRef: { oid: number; label: string },
  options: ExecutorOptions,
): Promise<PendingTriggerOutcome> {
  const name = syncTriggers(resolved).find((t) => t.arg === 'pending')!.name;
  if (!(await triggerExists(client, tableRef.oid, name))) return 'absent';
  // A scan of the whole table when none is pending: outside the batches' statement timeout.
  await client.query('BEGIN; SET LOCAL statement_timeout = 0');
  let pending: number;
  try {
    pending =
      (await client.query(`SELECT 1 FROM ${table(resolved)} WHERE ${quoteIdent(PENDING_COLUMN)} LIMIT 1`)).rowCount ??
      0;
  } finally {
    await client.query('COMMIT');
  }
  if (pending) return 'rows pending';
  try {
    await runDdlTransaction(
      client,
      'backfill',
      tableRef,
      [{ id: `drop-trigger ${name}`, sql: `DROP TRIGGER IF EXISTS ${quoteIdent(name)} ON ${table(resolved)}` }],
      { ...options, ddlDeadlineMs: Math.min(options.ddlDeadlineMs ?? DROP_DEADLINE_MS, DROP_DEADLINE_MS) },
    );
    return 'dropped';
  } catch (err) {
    // A saving, never a reason to fail a backfill that completed: a busy table, or a DROP the
    // database refuses (an event trigger freezing DDL, a role that may not), keeps the trigger.
    if (err instanceof ConnectionLostError) throw err;
    if (err instanceof LockTimeoutError) return { kept: 'the table was busy' };
    return { kept: `dropping it failed: ${errorMessage(err)}` };
  }
}
