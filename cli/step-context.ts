import { UsageError } from '../phases/errors';
import { MigrationSpec } from '../phases/sql/spec';
import { loadSpecFile } from '../executor/spec-file';
import { checkDatabaseUrl } from '../executor/connection';
import { ExecutorOptions, ProgressEvent } from '../executor/types';
import { CommandContext } from './command';
import { stackConfigDatabaseUrl } from './stack-database-url';
import { resolveDatabaseUrl } from '../phases/deploy/database-url-source';
import { activity } from './activity';
import { ErrorKind } from '../phases/errors';
import { failureOutcome, successOutcome } from './outcome';

export { activity } from './activity';
export type { Activity } from './activity';

/** The one SPEC positional every executor command takes. */
export function specArg(ctx: CommandContext, command: string): MigrationSpec {
  const [path, ...extra] = ctx.args.positionals;
  if (!path)
    throw new UsageError(`tandem ${command} needs a spec file, e.g. tandem ${command} migrations/split-full-name.yaml`);
  if (extra.length)
    throw new UsageError(`tandem ${command} takes one spec file, but got extra arguments: ${extra.join(' ')}`);
  activity.command = command;
  activity.specPath = path;
  return loadSpecFile(path);
}

/**
 * The database URL by the one rule (phases/deploy/database-url-source.ts): --database-url; else, in
 * a Pulumi Command, the stack config key its environment names (cli/stack-database-url.ts); else
 * DATABASE_URL, if any.
 */
export function databaseUrl(ctx: CommandContext): string | undefined {
  return resolveDatabaseUrl({
    flag: ctx.args.flags['database-url'] as string | undefined,
    stack: () => stackConfigDatabaseUrl(ctx.env),
    env: ctx.env,
  });
}

/** Executor options from flags and environment; progress goes to stderr so stdout stays data. */
export function executorOptions(ctx: CommandContext): ExecutorOptions {
  const url = checkDatabaseUrl(databaseUrl(ctx));
  const lockTimeout = ctx.args.flags['lock-timeout'] as number | undefined;
  const holdTimeout = ctx.args.flags['hold-timeout'] as number | undefined;
  return {
    databaseUrl: url,
    lockTimeoutMs: lockTimeout,
    ...(holdTimeout !== undefined ? { lockHoldMs: holdTimeout } : {}),
    onProgress: (e: ProgressEvent) => {
      activity.last = e.message;
      if (e.kind === 'info' || e.kind === 'lock_wait') activity.warnings.push(e.message);
      if (e.kind === 'backfill') {
        const pct = e.total ? ` (${Math.floor((100 * (e.done ?? 0)) / e.total)}%)` : '';
        ctx.out.progress(`${e.message}${pct}, ${Math.round(e.rowsPerSecond ?? 0)} rows/s`);
      } else if (e.kind === 'lock_wait') {
        ctx.out.info(ctx.out.warn(`waiting: ${e.message}`));
      } else if (!ctx.json) {
        ctx.out.info(ctx.out.dim(e.message));
      }
    },
  };
}

/** The one JSON object of an outcome: the result, `ok`, `exit_code` and the warnings given on the way. */
export function jsonOutcome(json: object, ok = true, exitCode = 0): string {
  const message = (json as { message?: unknown }).message;
  return JSON.stringify(
    ok
      ? successOutcome(json)
      : failureOutcome({ kind: 'refused', message: typeof message === 'string' ? message : 'refused' }, exitCode, json),
  );
}

/**
 * Print a result: one JSON object with --json, else its message behind a status word. A result
 * that is not ok (a failed check) names its `failure` kind: --json gives it an `error` like any failure.
 */
export function printResult(
  ctx: CommandContext,
  ok: boolean,
  message: string,
  json: object,
  failure?: ErrorKind,
): void {
  ctx.out.endProgress();
  if (!ctx.json) ctx.out.line(ok ? ctx.out.ok(message) : ctx.out.fail(message));
  else if (ok) ctx.out.line(JSON.stringify(successOutcome(json)));
  else {
    ctx.out.info(`${ctx.out.fail('failed')}: ${message}`); // the one sentence on stderr, as for every failure
    ctx.out.line(JSON.stringify(failureOutcome({ kind: failure ?? 'refused', message }, 1, json)));
  }
}
