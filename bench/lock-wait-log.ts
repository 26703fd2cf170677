import * as fs from 'fs';
import * as path from 'path';
import { ScratchPostgres } from '../rehearsal/scratch-postgres';

/** Server settings that make PostgreSQL log every lock wait with its exact duration. */
export const LOCK_WAIT_LOGGING: Record<string, string> = { log_lock_waits: 'on', deadlock_timeout: '1ms' };

export interface LockWaits {
  readonly count: number;
  readonly longestMs: number;
  /** The longest backfill batch statement logged (by a role with log_min_duration_statement = 0): how long a batch holds its row locks. */
  readonly longestBatchMs: number;
}

/** A superuser whose every statement the server logs with its duration: the bench runs the backfill as it. */
export const LOGGED_MIGRATOR = 'tandem_bench_migrator';

export function loggedMigratorSql(): string[] {
  return [
    `CREATE ROLE ${LOGGED_MIGRATOR} SUPERUSER LOGIN`,
    `ALTER ROLE ${LOGGED_MIGRATOR} SET log_min_duration_statement = 0`,
  ];
}

/**
 * Lock waits as the server measured them: with log_lock_waits on and deadlock_timeout at 1 ms,
 * PostgreSQL logs "process N acquired <lock> on ... after X ms" for every wait longer than 1 ms.
 */
export class LockWaitLog {
  private readonly file: string;

  constructor(server: ScratchPostgres) {
    this.file = path.join(path.dirname(server.dataDir), 'server.log');
  }

  /** Where the log ends now. */
  mark(): number {
    return fs.existsSync(this.file) ? fs.statSync(this.file).size : 0;
  }

  /** The waits logged since a mark. */
  since(offset: number): LockWaits {
    const text = fs.readFileSync(this.file).subarray(offset).toString('utf8');
    const waits = [...text.matchAll(/process \d+ acquired \S+ on .*? after ([\d.]+) ms/g)].map((m) => Number(m[1]));
    const batches = [...text.matchAll(/duration: ([\d.]+) ms\s+execute [^:]*: WITH updated AS/g)].map((m) =>
      Number(m[1]),
    );
    const max = (xs: number[]) => xs.reduce((m, v) => Math.max(m, v), 0);
    return { count: waits.length, longestMs: max(waits), longestBatchMs: max(batches) };
  }
}
