import * as fs from 'fs';
import * as path from 'path';
import { ScratchPostgres } from '../rehearsal/scratch-postgres';

/** Server settings that make PostgreSQL log every lock wait with its exact duration. */
export const LOCK_WAIT_LOGGING: Record<string, string> = { log_lock_waits: 'on', deadlock_timeout: '1ms' };

export interface LockWaits {
  readonly count: number;
  readonly longestMs: number;
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
    return { count: waits.length, longestMs: waits.reduce((m, v) => Math.max(m, v), 0) };
  }
}
