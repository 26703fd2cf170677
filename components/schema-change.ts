import * as command from '@pulumi/command';
import * as pulumi from '@pulumi/pulumi';
import { COMPONENT_TYPES } from '../phases/deploy/resource-side';
import { planSchemaCommands } from '../phases/deploy/schema-commands';
import { SchemaCommandRole } from '../phases/deploy/stack-state';

/**
 * The arguments of a SchemaChange: which tandem steps this stack state declares, and how to run the
 * tandem CLI. Every decision (command lines, deletes, ordering) comes from phases/deploy/schema-commands.ts.
 */
export interface SchemaChangeArgs {
  /** The steps this stack state declares, in order (planStackState(stage).schema.commands). */
  readonly commands: readonly SchemaCommandRole[];
  /** Absolute path of the project: the Commands run there. */
  readonly projectDir: string;
  /** The tandem CLI, relative to projectDir (`bin/tandem.js`). */
  readonly cliPath: string;
  /** The spec file, relative to projectDir. */
  readonly specPath: string;
  /** MigrationSpec.hash: a changed spec updates the Commands in place (never replaces them). */
  readonly specHash: string;
  /** The migrator's connection URL; passed as a secret in the Commands' environment, never on a command line. */
  readonly databaseUrl: pulumi.Input<string>;
  /**
   * The Commands leave the stack without running their deletes (Pulumi's retainOnDelete): set from
   * the migration's contract on, so the next migration's first stage can stop declaring them
   * (phases/deploy/migration-stage.ts). Plain, not an Input: the engine must know it at registration.
   */
  readonly retainOnDelete?: boolean;
}

/**
 * The schema side of a stack state: one `command.local.Command` per tandem step (`${name}-expand`,
 * `${name}-backfill`, `${name}-verify`, `${name}-contract`), each calling the tandem CLI, ordered by
 * dependsOn so backfill never runs before expand and contract never before verify.
 */
export class SchemaChange extends pulumi.ComponentResource {
  /** The Commands by step; absent steps are not declared in this stack state. */
  readonly commands: Readonly<Partial<Record<SchemaCommandRole, command.local.Command>>>;

  constructor(name: string, args: SchemaChangeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.schemaChange, name, {}, opts);
    const plans = planSchemaCommands(args.commands, { cliPath: args.cliPath, specPath: args.specPath, specHash: args.specHash });
    const made: Partial<Record<SchemaCommandRole, command.local.Command>> = {};
    for (const plan of plans) {
      made[plan.role] = new command.local.Command(
        `${name}-${plan.role}`,
        {
          create: plan.create,
          ...(plan.delete ? { delete: plan.delete } : {}),
          dir: args.projectDir,
          environment: { ...plan.environment, DATABASE_URL: pulumi.secret(args.databaseUrl) },
          // The CLI writes its progress and refusals to stderr; stdout may carry sample keys.
          logging: command.types.enums.local.Logging.Stderr,
          addPreviousOutputInEnv: false,
        },
        {
          parent: this,
          dependsOn: plan.dependsOn.map((role) => made[role] as command.local.Command),
          additionalSecretOutputs: ['stdout', 'stderr'],
          // A checkout at another path must not turn every later step into a schema update (the
          // walker would refuse it as a change to the wrong side); the Command keeps the dir it was created with.
          ignoreChanges: ['dir'],
          ...(args.retainOnDelete ? { retainOnDelete: true } : {}),
        },
      );
    }
    this.commands = made;
    this.registerOutputs({ commands: Object.keys(made) });
  }
}
