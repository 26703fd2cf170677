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
  /** e.g. `SPEC [--batch-size N]` */
  readonly usage: string;
  readonly summary: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  run(ctx: CommandContext): Promise<ExitCode>;
}

/** Flags every command takes. */
export const GLOBAL_FLAGS: Readonly<Record<string, FlagSpec>> = {
  json: { kind: 'boolean', description: 'print one JSON object (the last line of stdout) instead of text' },
  debug: { kind: 'boolean', description: 'show stack traces on errors' },
  help: { kind: 'boolean', description: 'show help for the command' },
};

/** Flags of the commands that talk to PostgreSQL. */
export const DATABASE_FLAGS: Readonly<Record<string, FlagSpec>> = {
  'database-url': { kind: 'string', value: 'URL', description: 'PostgreSQL connection URL (default: $DATABASE_URL)' },
  'lock-timeout': { kind: 'integer', value: 'MS', description: 'lock_timeout for each DDL statement, retried with backoff (default 1000)' },
};
