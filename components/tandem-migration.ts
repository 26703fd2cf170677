import { CONFIG_DEFAULTS } from '../phases/deploy/stack-config';
import * as fs from 'fs';
import * as path from 'path';
import * as postgresql from '@pulumi/postgresql';
import * as pulumi from '@pulumi/pulumi';
import { CanaryStep, defaultCanarySteps } from '../phases/deploy/canary-steps';
import { ConfigError } from '../phases/deploy/config-error';
import { parseLoginUrl, providerSslMode } from '../phases/deploy/database-url';
import {
  checkUniqueNames,
  currentMigrationIndex,
  MigrationEntry,
  parseMigrationList,
} from '../phases/deploy/migration-history';
import { MigrationStagePlan, MigrationStatus, planMigrationStage } from '../phases/deploy/migration-stage';
import { ReleaseKind, Release } from '../phases/deploy/releases';
import { COMPONENT_TYPES } from '../phases/deploy/resource-side';
import { isStage, Stage, STAGES } from '../phases/deploy/stages';
import { planAccess } from '../phases/sql/access-plan';
import { MigrationSpec } from '../phases/sql/spec';
import { loadSpecFile } from '../executor/spec-file';
import { ExecutorOptionsInput, checkExecutorOptions } from '../phases/deploy/executor-flags';
import { PROJECT_FILES, ProjectPathError } from '../phases/deploy/project-path';
import { requireAnalysisStep } from '../phases/deploy/rollout-spec';
import { buildRolloutFromWorkload, tandemPodTemplate, WorkloadRef } from '../phases/deploy/rollout-template';
import { DATABASE_URL_CONFIG_KEY } from '../phases/deploy/schema-commands';
import { RoleCheckError } from '../phases/sql/role-check';
import { checkRoles } from '../executor/role-check';
import { AppRollout } from './app-rollout';
import { DatabaseAccess } from './database-access';
import { SchemaChange } from './schema-change';
import { Manifest } from '../phases/deploy/manifest';

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
  /**
   * The project directory: spec paths are relative to it, and the schema Commands run there.
   * Default: the directory of the program's Pulumi.yaml, as the engine names it (the language host,
   * and `tandem walk`); where the engine names none (a test under setMocks, another inline
   * program) it is required: ProjectPathError otherwise.
   */
  readonly projectDir?: string;
  /** The tandem CLI, relative to projectDir (default: this package's bin/tandem.js); it must exist. */
  readonly cliPath?: string;

  /**
   * The team's own pod template (a PodTemplateSpec: containers, resources, service account, volumes,
   * sidecars, probes). Tandem puts in only the release's image and env (on `container`), the app
   * role's URL (env var `databaseUrlEnv`, from the `<appName>-db` Secret) and the labels its
   * Services select on. Absent (and no workloadRef): Tandem's own template, one container `app`.
   */
  readonly podTemplate?: Manifest;
  /** The container of podTemplate that runs the release: may be left out when it has one container. */
  readonly container?: string;
  /** The env var the app's container reads the app role's URL from (default DATABASE_URL). */
  readonly databaseUrlEnv?: string;
  /**
   * The team's existing Deployment, taken over by the Rollout through Argo Rollouts' workloadRef
   * (docs/component-guide.md, "Moving an existing Deployment under Tandem"). The Deployment stays
   * the team's resource; its template must be `this.podTemplate(theirs)`, which carries the release.
   */
  readonly workloadRef?: WorkloadRef;
  /**
   * Where the schema Commands find the migrator's URL when they run:
   * - a config key (`shop:migratorUrl`): the Commands name it and the CLI reads its value then, so
   *   rotating the URL changes no Command. It must be set in this stack and hold `databaseUrl`.
   * - null: the Commands carry `databaseUrl` itself, a secret in their environment. A changed URL
   *   is then a changed input: the declared steps run again (they are idempotent), the walker sees a
   *   schema-side change, and a delete (expand's rollback) runs with the URL of the last update.
   * Default: tandem:databaseUrl when this stack sets it (it must then hold `databaseUrl`), else null.
   */
  readonly databaseUrlConfigKey?: string | null;
  /**
   * Executor options, as a pipeline passes them on the CLI (--lock-timeout, --hold-timeout,
   * --chunk-time, --batch-size, --throttle-ms, --max-lag, --max-lag-bytes, --max-load,
   * --critical-load, --pause-file): flags on the Commands of the steps that take them. Changing one
   * changes those Commands, which runs their steps again: change them in a schema step.
   */
  readonly executor?: ExecutorOptionsInput;
  /**
   * With manageRoles false: check the DBA's roles against what Tandem needs, as the migrator,
   * before anything of this component is registered (default true; false when the program checked
   * them itself, as Tandem's own does). Ignored with manageRoles true (this stack makes the roles).
   * Read-only. A failed check is a RoleCheckError naming every problem, and nothing of the
   * component is declared. It runs once `databaseUrl` is known (in preview for config values).
   */
  readonly checkRoles?: boolean;
  /**
   * scoped (default): the SchemaChange is `${name}-<spec name>` and the AppRollout `${name}-app`,
   * so several TandemMigrations live in one program; each child (and each of their resources)
   * carries an alias to the name Tandem 0.1 gave it, so a stack created then keeps its resources
   * (a replaced expand Command would run its delete: a rollback). unscoped: the 0.1 names (the
   * spec's name and appName), one TandemMigration per program (Tandem's own program).
   */
  readonly childNames?: 'scoped' | 'unscoped';
}

/** One migration as the stack outputs record it. */
export interface MigrationRecord {
  readonly name: string;
  readonly spec: string;
  readonly specHash: string;
  readonly table: string;
  readonly status: MigrationStatus;
  readonly releases: Readonly<Record<ReleaseKind, string>>;
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

/** The project directory: given (it must exist), or the engine's (the directory of Pulumi.yaml). */
export function resolveProjectDir(given: string | undefined): string {
  if (given !== undefined) {
    const dir = path.resolve(given);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
      throw new ProjectPathError('projectDir', dir, 'is not a directory');
    return dir;
  }
  const root = pulumi.runtime.getRootDirectory();
  if (root && path.isAbsolute(root) && PROJECT_FILES.some((f) => fs.existsSync(path.join(root, f)))) return root;
  throw new ProjectPathError(
    'projectDir',
    undefined,
    'is not given, and the engine names no project directory (a test under setMocks, or an inline program); pass projectDir, the directory of Pulumi.yaml: spec paths are relative to it and the schema Commands run there',
  );
}

/** The CLI path relative to the project directory: given (it must exist there), or this package's. */
function resolveCliPath(projectDir: string, given: string | undefined): string {
  const cliPath = given ?? path.relative(projectDir, path.join(packageRoot(), 'bin', 'tandem.js'));
  if (!fs.existsSync(path.resolve(projectDir, cliPath)))
    throw new ProjectPathError(
      'cliPath',
      cliPath,
      `does not exist in ${projectDir}; give the tandem CLI relative to the project directory (default: this package's bin/tandem.js)`,
    );
  return cliPath;
}

/** Refuse a workload Tandem cannot put the release into, before anything is registered. */
function checkWorkload(
  args: TandemMigrationArgs,
  release: Release,
  appVersion: MigrationStagePlan['app']['version'],
): void {
  if (args.podTemplate && args.workloadRef)
    throw new ConfigError(
      'workloadRef',
      'and podTemplate are both given; the Rollout takes its pod template from one: the Deployment (workloadRef) or podTemplate',
    );
  const common = {
    app: args.appName,
    namespace: args.namespace ?? CONFIG_DEFAULTS.namespace,
    appVersion,
    replicas: args.replicas ?? CONFIG_DEFAULTS.replicas,
    steps: args.steps ?? defaultCanarySteps(),
  };
  if (args.workloadRef) buildRolloutFromWorkload({ ...common, workloadRef: args.workloadRef });
  if (args.podTemplate)
    tandemPodTemplate({
      app: args.appName,
      podTemplate: args.podTemplate,
      container: args.container,
      release,
      appVersion,
      databaseUrlEnv: args.databaseUrlEnv ?? 'DATABASE_URL',
    });
}

/** The history validated and the stage planned, before any resource is registered. */
function prepareMigration(args: TandemMigrationArgs) {
  if (!isStage(args.stage))
    throw new ConfigError('stage', `"${String(args.stage)}" is not a stage; use one of ${STAGES.join(', ')}`);
  const projectDir = resolveProjectDir(args.projectDir);
  const cliPath = resolveCliPath(projectDir, args.cliPath);
  const history = loadMigrations(args.migrations, projectDir);
  const names = history.map((m) => m.spec.name);
  const index = currentMigrationIndex(names, args.migration, 'migration', 'the migrations');
  const plan = planMigrationStage(history.length, { migration: index, stage: args.stage });
  const current = history[index];
  const schemaOf = (m: LoadedMigration) => m.spec.schema ?? args.dbSchema ?? CONFIG_DEFAULTS.dbSchema;
  const schemaName = schemaOf(current);
  const elsewhere = history.find((m) => schemaOf(m) !== schemaName);
  if (elsewhere) {
    throw new ConfigError(
      'migrations',
      `${elsewhere.spec.name} is on schema ${schemaOf(elsewhere)}, but ${current.spec.name} on ${schemaName}; one stack manages the app's access to one schema`,
    );
  }
  const executor = checkExecutorOptions('executor', args.executor);
  requireAnalysisStep(args.steps ?? defaultCanarySteps());
  const release = history[plan.app.migration].releases[plan.app.role];
  checkWorkload(args, release, plan.app.version);
  if (args.childNames !== undefined && args.childNames !== 'scoped' && args.childNames !== 'unscoped')
    throw new ConfigError('childNames', `"${String(args.childNames)}" is not scoped or unscoped`);
  return {
    projectDir,
    cliPath,
    history,
    plan,
    current,
    executor,
    release,
    migratorRole: args.migratorRole ?? CONFIG_DEFAULTS.migratorRole,
    appRole: args.appRole ?? CONFIG_DEFAULTS.appRole,
    schemaName,
  };
}

/** This program's stack, as `org/project/stack`. */
function thisStack(): string {
  return `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
}

/**
 * Which config key the schema Commands read the migrator's URL from (null: none, they carry the
 * URL), and a check that the key holds the URL the component was given (an Output that fails the
 * registration when it does not; nothing to check when the Commands read another stack's config).
 */
function commandUrlSource(
  args: TandemMigrationArgs,
  stack: string,
): { key: string | null; check?: pulumi.Output<pulumi.Resource[]> } {
  if (args.databaseUrlConfigKey === null) return { key: null };
  const key = args.databaseUrlConfigKey ?? DATABASE_URL_CONFIG_KEY;
  const at = key.indexOf(':');
  if (at <= 0 || at === key.length - 1)
    throw new ConfigError(
      'databaseUrlConfigKey',
      `"${key}" is not a config key; write it as namespace:name, e.g. shop:migratorUrl`,
    );
  if (stack !== thisStack()) return { key };
  const value = new pulumi.Config(key.slice(0, at)).getSecret(key.slice(at + 1));
  if (value === undefined) {
    if (args.databaseUrlConfigKey === undefined) return { key: null };
    throw new ConfigError(
      key,
      'is not set in this stack, and the schema Commands would read the migrator URL from it (databaseUrlConfigKey); set it, or pass databaseUrlConfigKey: null',
    );
  }
  const check = pulumi.all([value, args.databaseUrl]).apply(([configured, given]) => {
    if (configured !== given) {
      throw new ConfigError(
        key,
        'holds another URL than the databaseUrl given to TandemMigration, and the schema Commands would read the key; pass databaseUrlConfigKey naming the key databaseUrl comes from, or null to give the URL to the Commands',
      );
    }
    return [] as pulumi.Resource[];
  });
  return { key, check };
}

/** The DBA's roles checked as the migrator; the Output fails (RoleCheckError) when they are not as Tandem needs. */
function roleCheck(
  args: TandemMigrationArgs,
  spec: MigrationSpec,
  schema: string,
  appRole: string,
): pulumi.Output<pulumi.Resource[]> {
  const verifyRole = args.verifyRole ?? CONFIG_DEFAULTS.verifyRole;
  return pulumi.output(args.databaseUrl).apply(async (databaseUrl) => {
    const report = await checkRoles({ ...spec, schema }, { databaseUrl, appRole, verifyRole });
    if (!report.ok) throw new RoleCheckError(report.problems);
    return [] as pulumi.Resource[];
  });
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
  /** The config key the schema Commands read the migrator's URL from; null: they carry it. */
  readonly databaseUrlConfigKey: string | null;
  private readonly release: Release;
  private readonly appName: string;
  private readonly databaseUrlEnv: string;

  constructor(name: string, args: TandemMigrationArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate and plan before anything is registered: a bad history declares nothing.
    const prepared = prepareMigration(args);
    const stack = args.stack ?? thisStack();
    const urlSource = commandUrlSource(args, stack);
    const manageRoles = args.manageRoles ?? CONFIG_DEFAULTS.manageRoles;
    // Checks that need the database or a secret's value: the component (so every child) registers
    // only once they pass; each resolves to no dependency at all.
    const checks = [
      ...(urlSource.check ? [urlSource.check] : []),
      ...(!manageRoles && (args.checkRoles ?? true)
        ? [roleCheck(args, prepared.current.spec, prepared.schemaName, prepared.appRole)]
        : []),
    ];
    super(
      COMPONENT_TYPES.tandemMigration,
      name,
      {},
      checks.length
        ? { ...opts, dependsOn: [opts?.dependsOn, ...checks] as pulumi.Input<pulumi.Input<pulumi.Resource>[]> }
        : opts,
    );
    const { projectDir, cliPath, history, plan, current, migratorRole, appRole, schemaName, executor, release } =
      prepared;
    const scoped = (args.childNames ?? 'scoped') === 'scoped';
    // A scoped child carries an alias to its unscoped (0.1) name, and so does each of its resources.
    const childName = (unscoped: string, scopedName: string) =>
      scoped ? { name: scopedName, formerName: unscoped } : { name: unscoped, formerName: undefined };
    const aliased = (formerName: string | undefined) => (formerName ? { aliases: [{ name: formerName }] } : {});

    // Schema side: the migrator (database team's identity) manages the app and verify roles and runs tandem.
    if (manageRoles) {
      const verifyRole = args.verifyRole ?? CONFIG_DEFAULTS.verifyRole;
      const migrator = pulumi
        .output(args.databaseUrl)
        .apply((u) => parseLoginUrl('tandem:databaseUrl', u, migratorRole));
      const app = pulumi.output(args.appDatabaseUrl).apply((u) => parseLoginUrl('tandem:appDatabaseUrl', u, appRole));
      const verify = pulumi
        .output(args.verifyDatabaseUrl)
        .apply((u) => parseLoginUrl('tandem:verifyDatabaseUrl', u, verifyRole));
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
      const access = planAccess({
        schema: schemaName,
        migratorRole,
        appRole,
        verify: { role: verifyRole, table: current.spec.virtualTable ? '' : current.spec.table },
      });
      this.access = new DatabaseAccess(
        `${name}-database`,
        { plan: access, database, passwords: { [appRole]: app.password, [verifyRole]: verify.password } },
        { parent: this, providers: [pg] },
      );
    }
    const [declared] = plan.schemaChanges;
    const schemaChild = childName(current.spec.name, `${name}-${current.spec.name}`);
    this.databaseUrlConfigKey = urlSource.key;
    this.schemaChange = new SchemaChange(
      schemaChild.name,
      {
        commands: declared.commands,
        cliPath,
        specPath: path.relative(projectDir, current.absPath),
        specHash: current.spec.hash,
        stack,
        retainOnDelete: declared.retainOnDelete,
        databaseUrlConfigKey: urlSource.key,
        ...(urlSource.key === null ? { databaseUrl: args.databaseUrl } : {}),
        executor,
        formerName: schemaChild.formerName,
      },
      { parent: this, ...aliased(schemaChild.formerName) },
    );

    // App side: the release of the stage's role, with the spec of the migration it belongs to.
    const shown = history[plan.app.migration];
    const rolloutName = childName(args.appName, `${name}-app`);
    this.rollout = new AppRollout(
      rolloutName.name,
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
        podTemplate: args.podTemplate,
        container: args.container,
        databaseUrlEnv: args.databaseUrlEnv,
        workloadRef: args.workloadRef,
        formerName: rolloutName.formerName,
        // The Rollout depends on the schema side's Commands: a `pulumi destroy` (or any delete of
        // both) stops the app before the expand Command's delete rolls the schema back, never after.
        after: [this.schemaChange],
      },
      { parent: this, ...aliased(rolloutName.formerName) },
    );
    this.release = release;
    this.appName = args.appName;
    this.databaseUrlEnv = args.databaseUrlEnv ?? 'DATABASE_URL';

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
    this.registerOutputs({
      migration: this.migration,
      stage: this.stage,
      image: this.image,
      migrations: this.migrations,
    });
  }

  /**
   * The team's pod template with what this stage puts into it: the release's image and env on
   * `container`, the app role's URL under databaseUrlEnv, the labels the Rollout and its Services
   * select on. For the Deployment a workloadRef names: declare its template with this, so the
   * Rollout (which takes the Deployment's template) runs the stage's release.
   */
  podTemplate(theirs: Manifest, container?: string): Manifest {
    return tandemPodTemplate({
      app: this.appName,
      podTemplate: theirs,
      container,
      release: this.release,
      appVersion: this.plan.app.version,
      databaseUrlEnv: this.databaseUrlEnv,
    });
  }
}
