/**
 * The one JSON object every command prints under --json, whatever the outcome:
 * `{ ...result, ok, exit_code, error?: { kind, message, ...names }, warnings }` (docs/cli.md).
 */
import { ErrorKind, TandemError } from '../phases/errors';
import { activity } from './activity';

export interface OutcomeError {
  readonly kind: ErrorKind;
  readonly message: string;
  readonly [name: string]: unknown;
}

export interface Outcome {
  readonly ok: boolean;
  readonly exit_code: number;
  readonly error?: OutcomeError;
  readonly warnings: readonly string[];
  readonly [field: string]: unknown;
}

/** Fields of an error that are not names it carries: the error machinery, and what an operator cannot act on. */
const NOT_NAMES = new Set(['exitCode', 'kind', 'stack', 'message', 'name', 'cause']);

/** A success: the command's result, `ok`, `exit_code` 0 and the warnings given on the way. */
export function successOutcome(result: object = {}): Outcome {
  return { ...result, ok: true, exit_code: 0, warnings: [...activity.warnings] };
}

/** A failure (a refused operation, a failed check, an error): the result, if any, beside its `error`. */
export function failureOutcome(error: OutcomeError, exitCode: number, result: object = {}): Outcome {
  return { ...result, ok: false, exit_code: exitCode, error, warnings: [...activity.warnings] };
}

/**
 * The `error` of an outcome: kind, message, and the names a Tandem error carries (table, role,
 * policies, ...). Anything else is `internal`, with only its message and, from PostgreSQL, its
 * SQLSTATE: the server's source file, line and routine are no names an operator can act on.
 */
export function errorJson(err: unknown, message: string): OutcomeError {
  if (err instanceof TandemError) {
    const names: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(err)) {
      if (!NOT_NAMES.has(k) && v !== undefined && !(v instanceof Error) && typeof v !== 'function') names[k] = v;
    }
    return { kind: err.kind, message, ...names };
  }
  const code = (err as { code?: unknown } | null)?.code;
  return {
    kind: 'internal',
    message,
    ...(typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? { sqlstate: code } : {}),
  };
}
