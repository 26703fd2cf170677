/**
 * Typed errors. Each carries the offending names so a caller (the CLI, a pipeline, a test) can
 * act on them; `exitCode` maps them onto the CLI's contract: 2 bad input, 1 refused or failed.
 * Every error Tandem throws is a `TandemError` with a `kind` from the closed list below: the
 * `error.kind` of `--json` (docs/cli.md lists them; a test keeps the two lists equal).
 */

/** Every `error.kind` the CLI can print, in the order docs/cli.md lists them. */
export const ERROR_KINDS = [
  // bad input: exit 2
  'usage',
  'spec',
  'catalog',
  'config',
  'migration_position',
  'ungeneratable_column',
  'constraint_refuses_rows',
  'command_path',
  'project_path',
  // refused or failed: exit 1
  'refused',
  'command_order',
  'connection',
  'connection_lost',
  'interrupted',
  'lock_timeout',
  'executor_busy',
  'step_failed',
  'rows_hidden',
  'table_shape',
  'privilege',
  'state_untrusted',
  'migration_in_progress',
  'table_rewrite',
  'replication',
  'contract_incomplete',
  'backfill_stopped',
  'rows_held',
  'verify_failed',
  'repair_incomplete',
  'role_check',
  'unsafe_move_back',
  'schema_contracted',
  'next_migration_refused',
  'preview_refused',
  'render_mode_switch',
  'stack_busy',
  'cluster_not_ready',
  'program_not_compiled',
  'program_exit',
  'pending_operations',
  'gate_failed',
  'rollout_not_settled',
  'pulumi_missing',
  'pulumi_failed',
  'rehearsal_failed',
  'rehearsal_stopped',
  'postgres_binaries_missing',
  'pg_tool',
  'internal',
] as const;

/** One of ERROR_KINDS. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** The exit code of an error: 1 refused or failed, 2 invalid input or usage. */
export type ErrorExitCode = 1 | 2;

export function isErrorKind(value: unknown): value is ErrorKind {
  return typeof value === 'string' && (ERROR_KINDS as readonly string[]).includes(value);
}

/**
 * The base of every error Tandem throws: a subclass must say its `kind` (what a script branches
 * on) and its `exitCode`. Its own enumerable fields are the names it carries (`--json` prints them).
 */
export abstract class TandemError extends Error {
  abstract readonly kind: ErrorKind;
  abstract readonly exitCode: ErrorExitCode;
}

/** The spec (or a flag) is invalid: exit 2, nothing was changed. */
export class SpecError extends TandemError {
  readonly exitCode: ErrorExitCode = 2;
  readonly kind: ErrorKind = 'spec';
  /** Where in the spec, e.g. `operations[0].split_column.into[1].name`. */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'SpecError';
  }
}

/** The spec names something the live catalog does not have, or clashes with it: exit 2. */
export class CatalogError extends SpecError {
  readonly kind: ErrorKind = 'catalog';
  constructor(
    field: string,
    readonly objectName: string,
    message: string,
  ) {
    super(field, message);
    this.name = 'CatalogError';
  }
}

/** An operation was refused because of the table's state (contract before verify, ...): exit 1. */
export class RefusedError extends TandemError {
  readonly exitCode: ErrorExitCode = 1;
  readonly kind: ErrorKind = 'refused';
  constructor(
    message: string,
    readonly migration?: string,
  ) {
    super(message);
    this.name = 'RefusedError';
  }
}

/** Bad command-line usage: exit 2. */
export class UsageError extends TandemError {
  readonly exitCode: ErrorExitCode = 2;
  readonly kind: ErrorKind = 'usage';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
