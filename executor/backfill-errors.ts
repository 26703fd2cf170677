import { RefusedError, TandemError } from '../phases/errors';

function resumeHint(resumeCommand: string | undefined): string {
  return resumeCommand ? `resume with: ${resumeCommand}` : 'run the backfill again to resume';
}

/** The backfill stopped itself (critical load): exit 1, the checkpoint is kept. */
export class BackfillStoppedError extends RefusedError {
  readonly kind = 'backfill_stopped';
  constructor(
    readonly reason: string,
    readonly table: string,
    readonly rowsDone: number,
    resumeCommand: string | undefined,
    migration: string,
  ) {
    super(
      `backfill of ${table} stopped: ${reason}; the checkpoint is kept (${rowsDone} rows done in this run), ${resumeHint(resumeCommand)}`,
      migration,
    );
    this.name = 'BackfillStoppedError';
  }
}

/** Rows that other transactions kept locked past the deadline: every other row is done, the checkpoint is kept. */
export class RowsHeldError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'rows_held';
  constructor(
    readonly table: string,
    readonly keys: unknown[][],
    seconds: number,
    resumeCommand: string | undefined,
  ) {
    const sample = keys
      .slice(0, 5)
      .map((k) => `(${k.join(', ')})`)
      .join(', ');
    super(
      `backfill of ${table} is not complete: ${keys.length} row${keys.length === 1 ? '' : 's'} (key ${sample}${keys.length > 5 ? ', ...' : ''}) stayed locked by other transactions for ${Math.round(seconds)} s; ` +
        `every other row is backfilled and the checkpoint is kept: end those transactions, then ${resumeHint(resumeCommand)}`,
    );
    this.name = 'RowsHeldError';
  }
}
