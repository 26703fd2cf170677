/**
 * Typed errors. Each carries the offending names so a caller (the CLI, a pipeline, a test) can
 * act on them; `exitCode` maps them onto the CLI's contract: 2 bad input, 1 refused or failed.
 */

/** The spec (or a flag) is invalid: exit 2, nothing was changed. */
export class SpecError extends Error {
  readonly exitCode = 2;
  /** Where in the spec, e.g. `operations[0].split_column.into[1].name`. */
  constructor(readonly field: string, message: string) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'SpecError';
  }
}

/** The spec names something the live catalog does not have, or clashes with it: exit 2. */
export class CatalogError extends SpecError {
  constructor(field: string, readonly objectName: string, message: string) {
    super(field, message);
    this.name = 'CatalogError';
  }
}

/** An operation was refused because of the table's state (contract before verify, ...): exit 1. */
export class RefusedError extends Error {
  readonly exitCode = 1;
  constructor(message: string, readonly migration?: string) {
    super(message);
    this.name = 'RefusedError';
  }
}

/** Bad command-line usage: exit 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
