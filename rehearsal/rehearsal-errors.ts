import { ErrorExitCode, ErrorKind, TandemError } from '../phases/errors';

/**
 * The rehearsal stopped in a stage: the kind and exit code of what stopped it when that is one of
 * Tandem's errors (a lock timeout, a refusal, ...), else `rehearsal_stopped`; `stage` says where.
 */
export class RehearsalStoppedError extends TandemError {
  readonly kind: ErrorKind;
  readonly exitCode: ErrorExitCode;
  constructor(
    readonly stage: string,
    readonly cause: unknown,
  ) {
    const e = cause as { message?: unknown } | undefined;
    super(`the rehearsal stopped in ${stage}: ${typeof e?.message === 'string' ? e.message : String(cause)}`);
    this.name = 'RehearsalStoppedError';
    this.kind = cause instanceof TandemError ? cause.kind : 'rehearsal_stopped';
    this.exitCode = cause instanceof TandemError ? cause.exitCode : 1;
  }
}
