import { TandemError } from '../phases/errors';

/** The executor's runtime failures (exit 1): each names what it was waiting on or could not reach. */

export class ConnectionError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'connection';
  constructor(
    readonly target: string,
    reason: string,
  ) {
    super(`cannot connect to PostgreSQL at ${target}: ${reason}`);
    this.name = 'ConnectionError';
  }
}

/** The DDL kept timing out on its lock until the deadline: nothing was changed. */
export class LockTimeoutError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'lock_timeout';
  constructor(
    readonly table: string,
    readonly attempts: number,
    readonly blockers: string[],
  ) {
    super(
      `gave up after ${attempts} attempts to lock ${table} (each bounded by lock_timeout)` +
        (blockers.length ? `; blocked by ${blockers.join('; ')}` : '') +
        '; nothing was changed: end the blocking transaction, then run the step again',
    );
    this.name = 'LockTimeoutError';
  }
}

/** Another tandem executor holds the table's advisory lock. */
export class ExecutorBusyError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'executor_busy';
  constructor(
    readonly table: string,
    readonly holderPid: number | null,
  ) {
    super(
      `another tandem executor is working on ${table}${holderPid ? ` (backend pid ${holderPid})` : ''}; wait for it to finish`,
    );
    this.name = 'ExecutorBusyError';
  }
}

/**
 * PostgreSQL rejected a statement of a plan: the transaction it ran in was rolled back. What the
 * step committed before it (earlier batches, an expand before its index build) is kept, so the
 * message never says "nothing changed"; the caller's sentence says what is kept.
 */
export class StepFailedError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'step_failed';
  constructor(
    readonly step: string,
    readonly statementId: string,
    readonly pgMessage: string,
    readonly pgCode?: string,
    /** Set only by a caller that knows the step left nothing behind (a contract that took back all it enforced). */
    readonly nothingChanged?: true,
  ) {
    super(
      `${step} failed at "${statementId}"${nothingChanged ? ' and was rolled back, nothing changed' : ', whose transaction was rolled back'}: ${pgMessage}`,
    );
    this.name = 'StepFailedError';
  }

  /** The same failure, stated as leaving nothing changed. */
  withNothingChanged(): StepFailedError {
    return new StepFailedError(this.step, this.statementId, this.pgMessage, this.pgCode, true);
  }
}

/**
 * Contract did not commit, and what it enforced before its transaction (a unique index, a
 * validated constraint) could not all be taken back: named, with the way out.
 */
export class ContractIncompleteError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'contract_incomplete';
  constructor(
    readonly table: string,
    readonly enforced: string[],
    cause: string,
    undoFailure: string,
  ) {
    super(
      `contract did not complete (${cause}), and what it enforced before its transaction is still enforced on ${table} although the old version may still write: ` +
        `${enforced.join(', ')} (taking it back failed: ${undoFailure}); run tandem contract again to finish, or tandem rollback to remove it`,
    );
    this.name = 'ContractIncompleteError';
  }
}

/**
 * Something can hide rows from the migrator (row-level security): backfill, verify and contract
 * would see only part of the table, and contract would drop the hidden rows' data. Refused.
 */
export class RowsHiddenError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'rows_hidden';
  constructor(
    readonly table: string,
    readonly role: string,
    readonly policies: string[],
    readonly remedy: string,
  ) {
    super(
      `${table} has row-level security that can hide rows from the migrator role "${role}" (${policies.join('; ')}), ` +
        `so backfill and verify would see only part of the table and contract could drop hidden data; ${remedy}`,
    );
    this.name = 'RowsHiddenError';
  }
}

/** The table has a shape the executor cannot keep in sync as a whole (inheritance children, rules, a partition). */
export class TableShapeError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'table_shape';
  constructor(
    readonly table: string,
    readonly objects: string[],
    message: string,
  ) {
    super(message);
    this.name = 'TableShapeError';
  }
}

/** The migrator lacks a privilege a step needs: named before anything runs. */
export class PrivilegeError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'privilege';
  constructor(
    readonly role: string,
    readonly privilege: string,
    message: string,
  ) {
    super(message);
    this.name = 'PrivilegeError';
  }
}

/** The state schema, table or an object in it belongs to (or is writable by) another role: its contents cannot be trusted. */
export class StateSchemaError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'state_untrusted';
  constructor(
    readonly objects: string[],
    message: string,
  ) {
    super(message);
    this.name = 'StateSchemaError';
  }
}

/** Another migration is in progress on the table: every command refuses the same way. */
export class MigrationInProgressError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'migration_in_progress';
  constructor(
    readonly table: string,
    readonly migrations: string[],
    readonly migration: string,
  ) {
    super(
      `table ${table} already has a migration in progress (${migrations.join(', ')}); ` +
        `contract or roll it back before starting ${migration}`,
    );
    this.name = 'MigrationInProgressError';
  }
}

/** ADD COLUMN of this type would rewrite or scan the table under ACCESS EXCLUSIVE: refused before any lock is taken. */
export class TableRewriteError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'table_rewrite';
  constructor(
    readonly column: string,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'TableRewriteError';
  }
}

/** Expand would break logical replication (a publication of the table or of the state schema, a subscription into it): refused. */
export class ReplicationError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'replication';
  constructor(
    readonly table: string,
    readonly publications: string[],
    readonly subscriptions: string[],
    message: string,
  ) {
    super(message);
    this.name = 'ReplicationError';
  }
}

/** The connection to PostgreSQL was lost in the middle of a step. */
export class ConnectionLostError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'connection_lost';
  constructor(
    readonly step: string,
    readonly where: string,
    readonly resume: string,
    readonly reason: string,
  ) {
    super(`lost the connection to PostgreSQL during ${step} (${where}: ${reason}); ${resume}`);
    this.name = 'ConnectionLostError';
  }
}

const LOST_CODES = /^(08|57P0[1-3]|25P03)/;
const LOST_MESSAGES =
  /Connection terminated|connection (?:is )?closed|ECONNRESET|EPIPE|ETIMEDOUT|server closed the connection|terminating connection|Client has encountered a connection error|Client was closed/i;

/** Did this error come from a connection that went away (server restart, network, a server-side timeout)? */
export function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: unknown; pgCode?: unknown; message?: unknown };
  const code = typeof e?.pgCode === 'string' ? e.pgCode : typeof e?.code === 'string' ? e.code : '';
  if (LOST_CODES.test(code)) return true;
  return typeof e?.message === 'string' && LOST_MESSAGES.test(e.message);
}
