import * as command from '@pulumi/command';
import * as pulumi from '@pulumi/pulumi';
import { COMPONENT_TYPES } from '../phases/deploy/resource-side';
import { ConfigError } from '../phases/deploy/config-error';
import { ExecutorOptionsInput } from '../phases/deploy/executor-flags';
import { DATABASE_URL_CONFIG_KEY, planSchemaCommands } from '../phases/deploy/schema-commands';
import { SchemaCommandStep } from '../phases/deploy/stack-state';

/**
 * The arguments of a SchemaChange: which tandem steps this stack state declares, and how to run the
 * tandem CLI. Every decision (command lines, deletes, ordering) comes from phases/deploy/schema-commands.ts.
 */
export interface SchemaChangeArgs {
  /** The steps this stack state declares, in order (planStackState(stage).schema.commands). */
  readonly commands: readonly SchemaCommandStep[];
  /** The tandem CLI, relative to the project directory (`bin/tandem.js`); the Commands run there. */
  readonly cliPath: string;
  /** The spec file, relative to the project directory. */
  readonly specPath: string;
  /** MigrationSpec.hash: a changed spec updates the Commands in place (never replaces them). */
  readonly specHash: string;
  /**
   * The stack (`org/project/stack`) whose `tandem:databaseUrl` the CLI reads when a Command runs.
   * The URL itself is no input of any Command, so rotating it changes no Command.
   */
  readonly stack: string;
  /**
   * The config key of `stack` that holds the migrator's URL (default tandem:databaseUrl). null: the
   * Commands carry `databaseUrl` itself, a secret in their environment (DATABASE_URL): then a
   * changed URL is a changed input, which runs the declared steps again (they are idempotent) and is
   * a schema-side change for the walker, and a delete runs with the URL of the last update.
   */
  readonly databaseUrlConfigKey?: string | null;
  /** The migrator's URL, when databaseUrlConfigKey is null. */
  readonly databaseUrl?: pulumi.Input<string>;
  /** Executor options, as flags on the lines of the steps that take them (phases/deploy/executor-flags.ts). */
  readonly executor?: ExecutorOptionsInput;
  /**
   * The Commands leave the stack without running their deletes (Pulumi's retainOnDelete): set from
   * the migration's contract on, so the next migration's first stage can stop declaring them
   * (phases/deploy/migration-stage.ts). Plain, not an Input: the engine must know it at registration.
   */
  readonly retainOnDelete?: boolean;
  /**
   * The name this SchemaChange had before (TandemMigration's unscoped 0.1 name): each Command
   * carries an alias to `${formerName}-<step>`, so a stack created then keeps its Commands (a
   * replaced expand Command would run its delete, a rollback). Give the SchemaChange itself the
   * alias in its resource options.
   */
  readonly formerName?: string;
}

/**
 * The schema side of a stack state: one `command.local.Command` per tandem step (`${name}-expand`,
 * `${name}-backfill`, `${name}-verify`, `${name}-contract`), each calling the tandem CLI, ordered by
 * dependsOn so backfill never runs before expand and contract never before verify.
 */
export class SchemaChange extends pulumi.ComponentResource {
  /** The Commands by step; absent steps are not declared in this stack state. */
  readonly commands: Readonly<Partial<Record<SchemaCommandStep, command.local.Command>>>;

  constructor(name: string, args: SchemaChangeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.schemaChange, name, {}, opts);
    const key = args.databaseUrlConfigKey === undefined ? DATABASE_URL_CONFIG_KEY : args.databaseUrlConfigKey;
    if (key === null && args.databaseUrl === undefined)
      throw new ConfigError(
        'databaseUrl',
        'is required when databaseUrlConfigKey is null: the Commands carry the URL themselves',
      );
    const plans = planSchemaCommands(args.commands, {
      cliPath: args.cliPath,
      specPath: args.specPath,
      specHash: args.specHash,
      stack: args.stack,
      databaseUrlConfigKey: key,
      executor: args.executor,
    });
    // The URL itself only when no config key names it: a secret, never in the command line.
    const withUrl = (env: Readonly<Record<string, string>>): pulumi.Input<Record<string, pulumi.Input<string>>> =>
      key === null ? { ...env, DATABASE_URL: pulumi.secret(args.databaseUrl as pulumi.Input<string>) } : { ...env };
    const made: Partial<Record<SchemaCommandStep, command.local.Command>> = {};
    for (const plan of plans) {
      made[plan.role] = new command.local.Command(
        `${name}-${plan.role}`,
        {
          create: plan.create,
          ...(plan.delete ? { delete: plan.delete } : {}),
          // No `dir`: the engine's plugins run in the project directory of the current checkout.
          environment: withUrl(plan.environment),
          // The CLI writes its progress and refusals to stderr; stdout (sample keys) goes to /dev/null.
          logging: command.types.enums.local.Logging.Stderr,
          addPreviousOutputInEnv: false,
        },
        {
          parent: this,
          dependsOn: plan.dependsOn.map((role) => made[role] as command.local.Command),
          additionalSecretOutputs: ['stdout', 'stderr'],
          ...(args.retainOnDelete ? { retainOnDelete: true } : {}),
          ...(args.formerName ? { aliases: [{ name: `${args.formerName}-${plan.role}` }] } : {}),
        },
      );
    }
    this.commands = made;
    this.registerOutputs({ commands: Object.keys(made) });
  }
}
