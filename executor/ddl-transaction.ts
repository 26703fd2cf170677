import { lostReason, querySingle } from './connection';
import { Client } from 'pg';
import { PlanStatement } from '../phases/sql/plan';
import { SpecError } from '../phases/errors';
import { ConnectionLostError, isConnectionLoss, LockTimeoutError, StepFailedError } from './errors';
import { ExecutorOptions } from './types';
import { errorCode, errorMessage } from '../phases/error-fields';

export const DEFAULT_LOCK_TIMEOUT_MS = 1000;
export const DEFAULT_DDL_DEADLINE_MS = 300_000;
/**
 * How long a DDL transaction may hold its locks, enforced by the server: each statement may run
 * for lock_timeout + this long (statement_timeout), and the session may sit idle inside the
 * transaction for this long (idle_in_transaction_session_timeout, which ends the session, so a
 * stalled or frozen client releases ACCESS EXCLUSIVE within this bound).
 */
export const DEFAULT_LOCK_HOLD_MS = 2000;

/** The SET LOCAL statements that bound a DDL transaction on the server side. */
export function transactionBounds(lockTimeoutMs: number, holdMs: number, boundStatements = true): string[] {
  const ms = (n: number) => Math.max(1, Math.floor(n));
  return [
    `SET LOCAL lock_timeout = ${ms(lockTimeoutMs)}`,
    ...(boundStatements ? [`SET LOCAL statement_timeout = ${ms(lockTimeoutMs + Math.max(holdMs, 5000))}`] : []),
    `SET LOCAL idle_in_transaction_session_timeout = ${ms(holdMs)}`,
  ];
}

export interface DdlTransactionMode {
  /**
   * Bound each statement by statement_timeout (default). Off for statements that block no app
   * writes but scan the table (VALIDATE CONSTRAINT under SHARE UPDATE EXCLUSIVE); the idle bound stays.
   */
  readonly boundStatements?: boolean;
  /** Run everything, then roll back instead of committing (validate's dry run of expand). */
  readonly rollback?: boolean;
}

/** Test hook: TANDEM_TEST_STALL_AFTER=<statement id> stalls the client after that statement, as a frozen client would. */
async function testStall(statementId: string): Promise<void> {
  if (process.env.TANDEM_TEST_STALL_AFTER !== statementId) return;
  process.stderr.write(`tandem: stalling after ${statementId} (TANDEM_TEST_STALL_AFTER)\n`);
  await sleep(Number(process.env.TANDEM_TEST_STALL_MS ?? 60_000));
}

const LOCK_NOT_AVAILABLE = '55P03';
const DEADLOCK_DETECTED = '40P01';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exponential backoff with full jitter: a random wait in [base, min(cap, base * 2^attempt)]. */
export function backoffMs(attempt: number, baseMs = 50, capMs = 5000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  return baseMs + Math.random() * Math.max(0, ceiling - baseMs);
}

/** Who holds a lock on the table right now: pid, how long its transaction has run, what it runs. */
async function describeBlockers(client: Client, tableOid: number): Promise<string[]> {
  const r = await client.query<{ pid: number; age: string | null; state: string | null; app: string | null }>(
    `SELECT a.pid, date_trunc('second', now() - a.xact_start)::text AS age, a.state, a.application_name AS app
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.relation = $1 AND l.granted AND a.pid <> pg_backend_pid()
      GROUP BY a.pid, a.xact_start, a.state, a.application_name
      ORDER BY a.xact_start NULLS LAST LIMIT 3`,
    [tableOid],
  );
  return r.rows.map(describeBlocker);
}

/**
 * One blocker in words. Another role's session shows no state or transaction start to a migrator
 * without pg_read_all_stats: say so, rather than print "null" or "?".
 */
export function describeBlocker(b: {
  pid: number;
  age: string | null;
  state: string | null;
  app: string | null;
}): string {
  const what = b.state ?? 'its state not visible to this role';
  const since =
    b.age !== null ? `, transaction open for ${b.age}` : b.state !== null ? ', no transaction start known' : '';
  return `pid ${b.pid}${b.app ? ` (${b.app})` : ''}, ${what}${since}`;
}

/** What the user's SQL (raw_sql) must leave as it found it: the transaction, its bounds, the role. */
const STEP_FRAME_SQL = `SELECT current_setting('lock_timeout') AS lock_timeout, current_setting('statement_timeout') AS statement_timeout,
  current_setting('idle_in_transaction_session_timeout') AS idle_timeout, current_setting('row_security') AS row_security,
  current_user AS role, session_user AS session_role, pg_current_xact_id_if_assigned()::text AS xact`;

async function stepFrame(client: Client): Promise<Record<string, string | null>> {
  return (await client.query(STEP_FRAME_SQL)).rows[0];
}

/** After a raw_sql statement: anything of the frame it changed, as `name: before -> after`. */
async function frameChanges(client: Client, before: Record<string, string | null>): Promise<string[]> {
  const after = await stepFrame(client);
  return Object.keys(before)
    .filter((k) => before[k] !== after[k])
    .map((k) => (k === 'xact' ? 'the transaction (it was ended)' : `${k} ${before[k]} -> ${after[k]}`));
}

export interface DdlRun {
  readonly retries: number;
}

/**
 * Run statements as ONE transaction under a short lock_timeout. When the lock is not granted in
 * time the transaction rolls back (so app queries never queue behind a waiting ALTER for longer
 * than the timeout), waits with backoff and jitter, and tries again until the deadline.
 * `inside` runs last, in the same transaction (state bookkeeping).
 */
export async function runDdlTransaction(
  client: Client,
  step: string,
  table: { oid: number; label: string },
  statements: readonly PlanStatement[],
  options: ExecutorOptions,
  inside?: (client: Client) => Promise<void>,
  mode: DdlTransactionMode = {},
): Promise<DdlRun> {
  const lockTimeout = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const bounds = transactionBounds(
    lockTimeout,
    options.lockHoldMs ?? DEFAULT_LOCK_HOLD_MS,
    mode.boundStatements ?? true,
  );
  const deadline = Date.now() + (options.ddlDeadlineMs ?? DEFAULT_DDL_DEADLINE_MS);
  for (let attempt = 0; ; attempt++) {
    let current = 'begin';
    let done = 'BEGIN';
    try {
      await client.query('BEGIN');
      for (const b of bounds) await client.query(b);
      let frame: Record<string, string | null> | undefined;
      for (const s of statements) {
        current = s.id;
        if (s.untrusted && !frame) {
          await client.query('SELECT pg_current_xact_id()');
          frame = await stepFrame(client);
        }
        // The extended protocol runs exactly one statement, whatever an expression inside it holds.
        await querySingle(client, s.sql);
        if (s.untrusted && frame) {
          const changed = await frameChanges(client, frame);
          if (changed.length) {
            const ended = changed.some((c) => c.startsWith('the transaction'));
            throw new SpecError(
              'operations',
              `raw_sql statement ${s.id} changed what the step's bounds rely on (${changed.join('; ')}), so ${step} ${ended ? 'stopped there: what ran before it may have been committed' : 'was undone'}; leave transaction control, timeouts and the role to Tandem`,
            );
          }
        }
        done = `statement "${s.id}"`;
        await testStall(s.id);
      }
      current = 'record state';
      if (inside) await inside(client);
      current = mode.rollback ? 'rollback' : 'commit';
      await client.query(mode.rollback ? 'ROLLBACK' : 'COMMIT');
      return { retries: attempt };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (isConnectionLoss(err)) {
        throw new ConnectionLostError(
          step,
          `after ${done}`,
          'PostgreSQL rolls back the open transaction of a lost connection, so nothing of it was committed',
          lostReason(client, err),
        );
      }
      const retryable = errorCode(err) === LOCK_NOT_AVAILABLE || errorCode(err) === DEADLOCK_DETECTED;
      if (!retryable) {
        const code = errorCode(err);
        if (typeof code === 'string') throw new StepFailedError(step, current, errorMessage(err), code);
        throw err;
      }
      const blockers = await describeBlockers(client, table.oid).catch(() => []);
      if (Date.now() >= deadline) throw new LockTimeoutError(table.label, attempt + 1, blockers);
      const wait = backoffMs(attempt);
      options.onProgress?.({
        kind: 'lock_wait',
        message: `${step}: ${table.label} is busy (attempt ${attempt + 1}, lock_timeout ${lockTimeout} ms${blockers.length ? `; ${blockers[0]}` : ''}); retrying in ${Math.round(wait)} ms`,
      });
      await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
    }
  }
}
