import { querySingle } from './connection';
import { Client } from 'pg';
import { PlanStatement } from '../phases/sql/plan';
import { LockTimeoutError, StepFailedError } from './errors';
import { ExecutorOptions } from './types';

export const DEFAULT_LOCK_TIMEOUT_MS = 1000;
export const DEFAULT_DDL_DEADLINE_MS = 300_000;

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
  const r = await client.query<{ pid: number; age: string; state: string; app: string }>(
    `SELECT a.pid, coalesce(date_trunc('second', now() - a.xact_start)::text, '?') AS age, a.state, a.application_name AS app
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.relation = $1 AND l.granted AND a.pid <> pg_backend_pid()
      GROUP BY a.pid, a.xact_start, a.state, a.application_name
      ORDER BY a.xact_start NULLS LAST LIMIT 3`,
    [tableOid],
  );
  return r.rows.map((b) => `pid ${b.pid}${b.app ? ` (${b.app})` : ''}, ${b.state}, transaction open ${b.age}`);
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
): Promise<DdlRun> {
  const lockTimeout = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const deadline = Date.now() + (options.ddlDeadlineMs ?? DEFAULT_DDL_DEADLINE_MS);
  for (let attempt = 0; ; attempt++) {
    let current = 'begin';
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeout))}`);
      for (const s of statements) {
        current = s.id;
        // The extended protocol runs exactly one statement, whatever an expression inside it holds.
        await querySingle(client, s.sql);
      }
      current = 'record state';
      if (inside) await inside(client);
      current = 'commit';
      await client.query('COMMIT');
      return { retries: attempt };
    } catch (err: any) {
      await client.query('ROLLBACK').catch(() => undefined);
      const retryable = err?.code === LOCK_NOT_AVAILABLE || err?.code === DEADLOCK_DETECTED;
      if (!retryable) {
        if (err?.code && typeof err.code === 'string') throw new StepFailedError(step, current, err.message, err.code);
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
