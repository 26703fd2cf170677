/**
 * The Commands a SchemaChange declares, as data: for each tandem step, the shell line Pulumi runs
 * on create (and again on update) and on delete, and what it must wait for. Pure; the component
 * turns each entry into a `command.local.Command`.
 *
 * Lifecycle decisions (docs/architecture.md, "The Command lifecycle"):
 * - expand: create runs `tandem expand`; delete runs `tandem rollback`, so a stack moved back from
 *   expand to baseline undoes expand (safe: v1 never used the new columns). After contract the
 *   executor refuses that rollback, so even a `pulumi destroy` cannot drop the new columns.
 * - backfill: no delete. expand's rollback removes the new columns and the checkpoint with them;
 *   there is nothing of the backfill's own to undo.
 * - verify (contract stage only): no delete; it changes nothing.
 * - contract: its delete refuses (exit 1 with a sentence): contract cannot be undone, the old
 *   columns are gone. The contract stage declares every Command retainOnDelete
 *   (phases/deploy/migration-stage.ts), so no delete of that migration runs any more; the walker
 *   refuses a move back from contract, and the executor refuses a rollback after it.
 * - No Command has `triggers`: pulumi-command marks triggers replaceOnChanges, and a replacement
 *   creates the new Command and then deletes the old one, which for expand runs a rollback. The spec
 *   hash goes into `environment` instead: a changed spec is an in-place update that runs create
 *   again (`tandem expand`, which refuses a spec that changed after expand), never the delete.
 * - No credentials among the inputs. A Command's inputs are what Pulumi diffs, and an in-place
 *   update runs create again: with DATABASE_URL in `environment`, a password rotation (or another
 *   operator reaching the database by another host) would re-run every step and be refused by the
 *   walker as a schema change. The environment names where the URL is instead: the stack and the
 *   config key (`TANDEM_STACK`, `TANDEM_DATABASE_URL_CONFIG`). The tandem CLI reads the value with
 *   `pulumi config get` when it runs, so a delete, whose environment comes from the state, still
 *   gets the current credentials after a rotation, even in `pulumi destroy`.
 * - No working directory among the inputs. Without `dir`, pulumi-command runs the line where the
 *   engine runs its plugins: the project directory of the current checkout. The CLI and spec paths
 *   are relative to it, so a delete after the checkout moved (a fresh CI workspace) still finds them.
 * - stdout goes to /dev/null: the CLI's result lines (verify's sample keys are table data) never
 *   reach Pulumi's logs, not even when the Command fails (pulumi-command puts a failing command's
 *   output in the error whatever `logging` says). Refusals and progress are on stderr.
 */
import { TandemError } from '../errors';
import { ExecutorOptionsInput, executorFlags } from './executor-flags';
import { shellQuote } from './shell-quote';
import { SchemaCommandStep } from './stack-state';

export interface SchemaCommandContext {
  /** The tandem CLI, relative to the Commands' working directory (e.g. `bin/tandem.js`). */
  readonly cliPath: string;
  /** The spec file, relative to the Commands' working directory. */
  readonly specPath: string;
  /** MigrationSpec.hash of the spec the stack was planned with. */
  readonly specHash: string;
  /** The stack whose config holds the migrator's URL (`org/project/stack`). */
  readonly stack: string;
  /**
   * The config key of that stack that holds the migrator's URL (default tandem:databaseUrl). null:
   * the URL comes with the Command instead, as DATABASE_URL in its environment, which the component
   * adds as a secret (no TANDEM_STACK or TANDEM_DATABASE_URL_CONFIG then).
   */
  readonly databaseUrlConfigKey?: string | null;
  /** Executor options: flags on the lines of the steps that take them (none given: the lines of 0.1.0). */
  readonly executor?: ExecutorOptionsInput;
}

export interface SchemaCommandPlan {
  readonly role: SchemaCommandStep;
  /** Runs on create, and again on an in-place update (pulumi-command runs create when `update` is unset). */
  readonly create: string;
  /** Runs when a later stack state stops declaring the Command; absent means nothing runs. */
  readonly delete?: string;
  /** Whether `delete` undoes expand: the Command that a forward step must never delete or replace. */
  readonly deleteRunsRollback: boolean;
  /** Whether `delete` refuses (exits 1): the step cannot be undone. */
  readonly deleteRefuses: boolean;
  /** Roles this Command must run after (resource dependsOn). */
  readonly dependsOn: readonly SchemaCommandStep[];
  /** The Command's whole environment: no secret in it (the CLI reads the URL from the stack's config). */
  readonly environment: Readonly<Record<string, string>>;
}

/** A Command was asked for without the Commands it must run after. */
export class CommandOrderError extends TandemError {
  readonly kind = 'command_order';
  readonly exitCode = 1;
  constructor(
    readonly role: SchemaCommandStep,
    readonly missing: readonly SchemaCommandStep[],
  ) {
    super(`the ${role} Command needs the ${missing.join(', ')} Command declared in the same stack state`);
    this.name = 'CommandOrderError';
  }
}

/** A Command path that would pin the checkout's location into the stack's state. */
export class CommandPathError extends TandemError {
  readonly kind = 'command_path';
  readonly exitCode = 2;
  constructor(
    readonly what: 'CLI' | 'spec',
    readonly path: string,
  ) {
    super(
      `the ${what} path ${path} is absolute; give it relative to the project directory, so the Commands do not depend on where the checkout is`,
    );
    this.name = 'CommandPathError';
  }
}

/** The environment variable that carries the spec hash into every Command's inputs. */
export const SPEC_HASH_ENV = 'TANDEM_SPEC_SHA256';
/** The stack, and the key of its config that holds the migrator's URL (read by the CLI at run time). */
export const STACK_ENV = 'TANDEM_STACK';
export const DATABASE_URL_CONFIG_ENV = 'TANDEM_DATABASE_URL_CONFIG';
export const DATABASE_URL_CONFIG_KEY = 'tandem:databaseUrl';

const DEPENDS_ON: Readonly<Record<SchemaCommandStep, readonly SchemaCommandStep[]>> = {
  expand: [],
  backfill: ['expand'],
  verify: ['backfill'],
  contract: ['verify'],
};

/**
 * The shell line that runs `tandem <step> <spec>` through node, so no PATH or shebang is assumed;
 * relative paths, so it runs in whichever checkout the engine runs in; stdout discarded.
 */
export function tandemCommandLine(
  ctx: Pick<SchemaCommandContext, 'cliPath' | 'specPath'>,
  step: string,
  flags: readonly string[] = [],
): string {
  return `${['node', ctx.cliPath, step, ctx.specPath, ...flags].map(shellQuote).join(' ')} >/dev/null`;
}

/** The contract Command's delete: say why nothing can be undone, and fail. */
export function refuseUndoContractLine(spec: string): string {
  const sentence =
    `tandem: contract of ${spec} cannot be undone: the old columns are gone, so the stack cannot move back past contract. ` +
    'The contract stage declares every Command of the migration retainOnDelete, so this runs only if that option was taken off; the next migration in tandem:migrations takes them out of the stack.';
  return `echo ${shellQuote(sentence)} >&2; exit 1`;
}

export function planSchemaCommands(
  roles: readonly SchemaCommandStep[],
  ctx: SchemaCommandContext,
): SchemaCommandPlan[] {
  for (const [what, p] of [
    ['CLI', ctx.cliPath],
    ['spec', ctx.specPath],
  ] as const) {
    if (p.startsWith('/')) throw new CommandPathError(what, p);
  }
  const declared = new Set(roles);
  const options = ctx.executor ?? {};
  const key = ctx.databaseUrlConfigKey === undefined ? DATABASE_URL_CONFIG_KEY : ctx.databaseUrlConfigKey;
  const environment: Readonly<Record<string, string>> =
    key === null
      ? { [SPEC_HASH_ENV]: ctx.specHash }
      : { [SPEC_HASH_ENV]: ctx.specHash, [STACK_ENV]: ctx.stack, [DATABASE_URL_CONFIG_ENV]: key };
  return roles.map((role) => {
    const missing = DEPENDS_ON[role].filter((r) => !declared.has(r));
    if (missing.length > 0) throw new CommandOrderError(role, missing);
    const del =
      role === 'expand'
        ? tandemCommandLine(ctx, 'rollback', executorFlags('rollback', options))
        : role === 'contract'
          ? refuseUndoContractLine(ctx.specPath)
          : undefined;
    return {
      role,
      create: tandemCommandLine(ctx, role, executorFlags(role, options)),
      ...(del ? { delete: del } : {}),
      deleteRunsRollback: role === 'expand',
      deleteRefuses: role === 'contract',
      dependsOn: DEPENDS_ON[role],
      environment,
    };
  });
}
