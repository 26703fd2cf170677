import { CONFIG_DEFAULTS } from '../phases/deploy/stack-config';
import * as fs from 'fs';
import * as path from 'path';
import * as postgresql from '@pulumi/postgresql';
import * as pulumi from '@pulumi/pulumi';
import { CanaryStep, defaultCanarySteps } from '../phases/deploy/canary-steps';
import { ConfigError } from '../phases/deploy/config-error';
import { parseLoginUrl, providerSslMode } from '../phases/deploy/database-url';
import { checkUniqueNames, currentMigrationIndex, MigrationEntry, parseMigrationList } from '../phases/deploy/migration-history';
import { MigrationStagePlan, MigrationStatus, planMigrationStage } from '../phases/deploy/migration-stage';
import { AppRole, Release } from '../phases/deploy/releases';
import { COMPONENT_TYPES } from '../phases/deploy/resource-side';
import { isStage, Stage, STAGES } from '../phases/deploy/stages';
import { planAccess } from '../phases/sql/access-plan';
import { loadSpecFile, MigrationSpec } from '../phases/sql/spec';
import { AppRollout } from './app-rollout';
import { DatabaseAccess } from './database-access';
import { SchemaChange } from './schema-change';

/** A release as config gives it: an image reference, or `{ image, env }`. */
export type ReleaseInput = string | { readonly image: string; readonly env?: Readonly<Record<string, string>> };

/** One migration of the history: its spec file and the releases that carry it. */
export interface MigrationInput {
  /** The spec file, relative to `projectDir`. */
  readonly spec: string;
  /** `old` may be left out after the first migration: it is the previous migration's `new`. */
  readonly releases: { readonly old?: ReleaseInput; readonly dual: ReleaseInput; readonly new: ReleaseInput };
}

/**
 * The arguments of a TandemMigration. Everything that decides WHICH resources exist (the history,
 * the current migration, the stage) is plain data, not an Input: Pulumi must know the resources at
 * registration, and the stage planner (phases/deploy/migration-stage.ts) runs before any is created.
 */
export interface TandemMigrationArgs {
  /** The stack's migrations, in order (the shape of `tandem:migrations`). */
  readonly migrations: readonly MigrationInput[];
  /** The current migration, by its spec's name; default: the first. Every one before it is finished. */
  readonly migration?: string;
  /** The current migration's stage: baseline, expand, dual-write, cleanup or contract. */
  readonly stage: Stage;
  /** The migrator's connection URL (owns the tables, CREATEROLE): the postgresql provider uses it. */
  readonly databaseUrl: pulumi.Input<string>;
  /**
   * The stack (`org/project/stack`) whose `tandem:databaseUrl` the tandem Commands read when they
   * run: the URL is no input of any Command, so rotating it changes no Command. Default: the stack
   * this program runs in.
   */
  readonly stack?: string;
  /** false: the roles are a DBA's; no role, grant or postgresql provider is declared (default true). */
  readonly manageRoles?: boolean;
  /** The read-only role the verify Job logs in as (default tandem_verify). */
  readonly verifyRole?: string;
  /** The app role's URL as pods reach the database; its password becomes the app role's. */
  readonly appDatabaseUrl: pulumi.Input<string>;
  /** The verify Job's read-only login, as pods reach the database. */
  readonly verifyDatabaseUrl: pulumi.Input<string>;
  /** The Rollout's name and the base of every Kubernetes object name. */
  readonly appName: string;
  readonly namespace?: string;
  /** An image with the `tandem` CLI on PATH, for the canary's verify Job. */
  readonly verifyImage: string;
  readonly replicas?: number;
  readonly containerPort?: number;
  /** Canary steps; default: setWeight 10, pause, analysis, 50, pause, 90, pause, 100. */
  readonly steps?: readonly CanaryStep[];
  readonly migratorRole?: string;
  readonly appRole?: string;
  /** The schema of the app's tables, when the specs do not name one (default public). */
  readonly dbSchema?: string;
  /** Where spec paths are resolved and the Commands run (default: the working directory, where Pulumi runs the program). */
  readonly projectDir?: string;
  /** The tandem CLI, relative to projectDir (default: this package's bin/tandem.js). */
  readonly cliPath?: string;
}

/** One migration as the stack outputs record it. */
export interface MigrationRecord {
  readonly name: string;
  readonly spec: string;
  readonly specHash: string;
  readonly table: string;
  readonly status: MigrationStatus;
  readonly releases: Readonly<Record<AppRole, string>>;
}

interface LoadedMigration extends MigrationEntry {
  readonly spec: MigrationSpec;
  readonly absPath: string;
}

/** The package's root (where bin/tandem.js is), from components/ or dist/components/. */
function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'bin', 'tandem.js'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..');
  }
}

/** Validate the history and load its specs; throws ConfigError naming the entry. */
export function loadMigrations(inputs: readonly MigrationInput[], projectDir: string): LoadedMigration[] {
  const entries = parseMigrationList(inputs);
  const loaded = entries.map((e) => {
    const absPath = path.resolve(projectDir, e.specPath);
    return { ...e, absPath, spec: loadSpecFile(absPath) };
  });
  checkUniqueNames(loaded.map((m) => m.spec.name));
  return loaded;
}

/** The history validated and the stage planned, before any resource is registered. */
function prepareMigration(args: TandemMigrationArgs) {
  if (!isStage(args.stage)) throw new ConfigError('stage', `"${String(args.stage)}" is not a stage; use one of ${STAGES.join(', ')}`);
  const projectDir = path.resolve(args.projectDir ?? process.cwd());
  const cliPath = args.cliPath ?? path.relative(projectDir, path.join(packageRoot(), 'bin', 'tandem.js'));
  const history = loadMigrations(args.migrations, projectDir);
  const names = history.map((m) => m.spec.name);
  const index = currentMigrationIndex(names, args.migration, 'migration', 'the migrations');
  const plan = planMigrationStage(history.length, { migration: index, stage: args.stage });
  const current = history[index];
  const schemaOf = (m: LoadedMigration) => m.spec.schema ?? args.dbSchema ?? CONFIG_DEFAULTS.dbSchema;
  const schemaName = schemaOf(current);
  const elsewhere = history.find((m) => schemaOf(m) !== schemaName);
  if (elsewhere) {
    throw new ConfigError('migrations', `${elsewhere.spec.name} is on schema ${schemaOf(elsewhere)}, but ${current.spec.name} on ${schemaName}; one stack manages the app's access to one schema`);
  }
  return { projectDir, cliPath, history, plan, current, migratorRole: args.migratorRole ?? CONFIG_DEFAULTS.migratorRole, appRole: args.appRole ?? CONFIG_DEFAULTS.appRole, schemaName };
}

/**
 * One stack state of a history of migrations: the database access (DatabaseAccess), the current
 * migration's schema steps as tandem Commands (SchemaChange, named after the migration), and the
 * Argo Rollouts canary of the release the stage runs (AppRollout), each a child of this component.
 * Every earlier migration is finished: its Commands left the stack at the next migration's
 * baseline, retained (their deletes never run), and it is listed in `migrations` as finished.
 * Adjacent stages differ in one side only, schema or app; `tandem walk` moves a stack between them.
 *
 * Pass the Kubernetes provider in `opts.providers` to deploy to a cluster other than the default.
 */
export class TandemMigration extends pulumi.ComponentResource {
  /** The plan of this stack state (which Commands, which release). */
  readonly plan: MigrationStagePlan;
  /** The current migration's name. */
  readonly migration: string;
  readonly stage: Stage;
  /** The image the Rollout runs in this stage. */
  readonly image: string;
  /** The history, in order, each with its status. */
  readonly migrations: readonly MigrationRecord[];
  readonly schemaChange: SchemaChange;
  readonly rollout: AppRollout;
  /** Absent with `manageRoles: false`. */
  readonly access?: DatabaseAccess;

  constructor(name: string, args: TandemMigrationArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate and plan before anything is registered: a bad history declares nothing.
    const prepared = prepareMigration(args);
    super(COMPONENT_TYPES.tandemMigration, name, {}, opts);
    const { projectDir, cliPath, history, plan, current, migratorRole, appRole, schemaName } = prepared;

    // Schema side: the migrator (database team's identity) manages the app and verify roles and runs tandem.
    if (args.manageRoles ?? CONFIG_DEFAULTS.manageRoles) {
      const verifyRole = args.verifyRole ?? CONFIG_DEFAULTS.verifyRole;
      const migrator = pulumi.output(args.databaseUrl).apply((u) => parseLoginUrl('tandem:databaseUrl', u, migratorRole));
      const app = pulumi.output(args.appDatabaseUrl).apply((u) => parseLoginUrl('tandem:appDatabaseUrl', u, appRole));
      const verify = pulumi.output(args.verifyDatabaseUrl).apply((u) => parseLoginUrl('tandem:verifyDatabaseUrl', u, verifyRole));
      const database = pulumi.unsecret(migrator.database);
      const pg = new postgresql.Provider(
        `${name}-migrator`,
        {
          host: pulumi.unsecret(migrator.host),
          port: pulumi.unsecret(migrator.port),
          username: pulumi.unsecret(migrator.username),
          password: migrator.password,
          database,
          sslmode: pulumi.unsecret(migrator.apply((m) => providerSslMode('tandem:databaseUrl', m))),
          superuser: false,
        },
        { parent: this },
      );
      // The verify role's table grant follows the current migration's table (a schema step at its baseline).
      const access = planAccess({ schema: schemaName, migratorRole, appRole, verify: { role: verifyRole, table: current.spec.virtualTable ? '' : current.spec.table } });
      this.access = new DatabaseAccess(
        `${name}-database`,
        { plan: access, database, passwords: { [appRole]: app.password, [verifyRole]: verify.password } },
        { parent: this, providers: [pg] },
      );
    }
    const [declared] = plan.schemaChanges;
    this.schemaChange = new SchemaChange(
      current.spec.name,
      {
        commands: declared.commands,
        cliPath,
        specPath: path.relative(projectDir, current.absPath),
        specHash: current.spec.hash,
        stack: args.stack ?? `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
        retainOnDelete: declared.retainOnDelete,
      },
      { parent: this },
    );

    // App side: the release of the stage's role, with the spec of the migration it belongs to.
    const shown = history[plan.app.migration];
    const release: Release = shown.releases[plan.app.role];
    this.rollout = new AppRollout(
      args.appName,
      {
        app: args.appName,
        namespace: args.namespace ?? CONFIG_DEFAULTS.namespace,
        image: release.image,
        appVersion: plan.app.version,
        env: release.env,
        replicas: args.replicas ?? CONFIG_DEFAULTS.replicas,
        containerPort: args.containerPort ?? CONFIG_DEFAULTS.appPort,
        steps: args.steps ?? defaultCanarySteps(),
        verifyImage: args.verifyImage,
        specFile: path.basename(shown.absPath),
        specText: fs.readFileSync(shown.absPath, 'utf8'),
        appDatabaseUrl: args.appDatabaseUrl,
        verifyDatabaseUrl: args.verifyDatabaseUrl,
        // The Rollout depends on the schema side's Commands: a `pulumi destroy` (or any delete of
        // both) stops the app before the expand Command's delete rolls the schema back, never after.
        after: [this.schemaChange],
      },
      { parent: this },
    );

    this.plan = plan;
    this.migration = current.spec.name;
    this.stage = args.stage;
    this.image = release.image;
    this.migrations = history.map((m, i) => ({
      name: m.spec.name,
      spec: m.specPath,
      specHash: m.spec.hash,
      table: `${m.spec.schema ? `${m.spec.schema}.` : ''}${m.spec.table}`,
      status: plan.statuses[i],
      releases: { old: m.releases.old.image, dual: m.releases.dual.image, new: m.releases.new.image },
    }));
    this.registerOutputs({ migration: this.migration, stage: this.stage, image: this.image, migrations: this.migrations });
  }
}
