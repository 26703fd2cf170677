/** The executor's runtime failures (exit 1): each names what it was waiting on or could not reach. */

export class ConnectionError extends Error {
  readonly exitCode = 1;
  constructor(readonly target: string, reason: string) {
    super(`cannot connect to PostgreSQL at ${target}: ${reason}`);
    this.name = 'ConnectionError';
  }
}

/** The DDL kept timing out on its lock until the deadline: nothing was changed. */
export class LockTimeoutError extends Error {
  readonly exitCode = 1;
  constructor(readonly table: string, readonly attempts: number, readonly blockers: string[]) {
    super(
      `gave up after ${attempts} attempts to lock ${table} (each bounded by lock_timeout)` +
        (blockers.length ? `; blocked by ${blockers.join('; ')}` : '') +
        '; nothing was changed: end the blocking transaction, then run the step again',
    );
    this.name = 'LockTimeoutError';
  }
}

/** Another tandem executor holds the table's advisory lock. */
export class ExecutorBusyError extends Error {
  readonly exitCode = 1;
  constructor(readonly table: string, readonly holderPid: number | null) {
    super(`another tandem executor is working on ${table}${holderPid ? ` (backend pid ${holderPid})` : ''}; wait for it to finish`);
    this.name = 'ExecutorBusyError';
  }
}

/** PostgreSQL rejected a statement of a plan: nothing of that step was committed. */
export class StepFailedError extends Error {
  readonly exitCode = 1;
  constructor(readonly step: string, readonly statementId: string, readonly pgMessage: string, readonly pgCode?: string) {
    super(`${step} failed at "${statementId}" and was rolled back, nothing changed: ${pgMessage}`);
    this.name = 'StepFailedError';
  }
}
