import { Client } from 'pg';
import { startScratchPostgres, ScratchPostgres } from '../rehearsal/scratch-postgres';
import { loadCustomers } from './load-customers';
import { LOCK_WAIT_LOGGING, LOGGED_MIGRATOR, LockWaitLog, loggedMigratorSql } from './lock-wait-log';

/** A database of the bench server holding the loaded table, dropped when done. */
export interface BenchDatabase {
  readonly url: string;
  drop(): Promise<unknown>;
}

/** One throwaway server for the whole run: each measurement on its own fresh database. */
export interface BenchContext {
  readonly server: ScratchPostgres;
  readonly lockLog: LockWaitLog;
  /** A new database with `rows` customers, settled (VACUUM ANALYZE, CHECKPOINT). */
  fresh(rows: number): Promise<BenchDatabase>;
  withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T>;
  /** The same database as the role whose statements the server logs (the backfill's, for its lock waits). */
  asLoggedMigrator(url: string): string;
  postgresVersion(): Promise<string>;
  close(): Promise<void>;
}

export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function openBenchContext(): Promise<BenchContext> {
  const server = await startScratchPostgres({ settings: LOCK_WAIT_LOGGING });
  const admin = new Client({ connectionString: server.url });
  await admin.connect();
  for (const statement of loggedMigratorSql()) await admin.query(statement);
  let counter = 0;
  return {
    server,
    lockLog: new LockWaitLog(server),
    async fresh(rows) {
      const name = `bench_${counter++}`;
      await admin.query(`CREATE DATABASE ${name}`);
      const url = server.urlFor(name);
      await withClient(url, async (c) => {
        await loadCustomers(c, rows);
        await c.query('CHECKPOINT');
      });
      return { url, drop: () => admin.query(`DROP DATABASE ${name}`) };
    },
    withClient,
    asLoggedMigrator(url) {
      const u = new URL(url);
      u.username = LOGGED_MIGRATOR;
      return u.toString();
    },
    async postgresVersion() {
      return (await admin.query('SHOW server_version')).rows[0].server_version as string;
    },
    async close() {
      await admin.end().catch(() => undefined);
      await server.stop();
    },
  };
}

/** Rounds alternate between the sides compared; the median resists the noise of a shared machine. */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
