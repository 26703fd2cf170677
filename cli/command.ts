import { DEFAULT_LOCK_HOLD_MS, DEFAULT_LOCK_TIMEOUT_MS } from '../executor/ddl-transaction';
import { FlagSpec, ParsedArgs } from './args';
import { ExitCode } from './exit-code';
import { Output } from './output';

export interface CommandContext {
  readonly args: ParsedArgs;
  readonly out: Output;
  readonly json: boolean;
  readonly env: NodeJS.ProcessEnv;
}

/** One `tandem <name>` subcommand; each lives in cli/commands/<name>.ts. */
export interface Command {
  readonly name: string;
  /** The positional arguments, e.g. `SPEC` or `[SPEC]`; the usage line adds every flag from `flags`. */
  readonly usage: string;
  readonly summary: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  run(ctx: CommandContext): Promise<ExitCode>;
}

/** Flags every command takes. */
export const GLOBAL_FLAGS: Readonly<Record<string, FlagSpec>> = {
  json: { kind: 'boolean', description: 'print one JSON object (the last line of stdout) instead of text' },
  debug: { kind: 'boolean', description: 'show stack traces on errors' },
  help: { kind: 'boolean', description: 'show help for the command (also -h)' },
};

/** The connection flag every command that talks to PostgreSQL takes. */
export const CONNECTION_FLAGS: Readonly<Record<string, FlagSpec>> = {
  'database-url': {
    kind: 'string',
    value: 'URL',
    description:
      'PostgreSQL connection URL (default: in a Pulumi Command the stack config key it names, else $DATABASE_URL; PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE fill what it leaves out)',
  },
};

/** Flags of the commands that wait for locks (DDL, or the backfill's row locks). */
export const LOCK_FLAGS: Readonly<Record<string, FlagSpec>> = {
  ...CONNECTION_FLAGS,
  'lock-timeout': {
    kind: 'integer',
    value: 'MS',
    min: 1,
    default: DEFAULT_LOCK_TIMEOUT_MS,
    description: 'lock_timeout for each statement that waits for a lock, retried with backoff',
  },
};

/** Flags of the commands that run a DDL transaction (expand, contract, rollback, validate's dry run of expand). */
export const DATABASE_FLAGS: Readonly<Record<string, FlagSpec>> = {
  ...LOCK_FLAGS,
  'hold-timeout': {
    kind: 'integer',
    value: 'MS',
    min: 1,
    default: DEFAULT_LOCK_HOLD_MS,
    description:
      'server-side bound on how long a DDL transaction may sit idle holding its locks (idle_in_transaction_session_timeout)',
  },
};
