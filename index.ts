/**
 * The Tandem Pulumi program: the thinnest user of the package API (lib/index.ts). It reads the
 * stack config (`tandem:stage`, `tandem:migrations` and `tandem:migration`, or the demo's
 * `tandem:spec` + `tandem:appImage`) and declares that stack state with one TandemMigration.
 * Adjacent stages differ in one side only (hard rule 1); test/stack-states.test.ts and
 * test/stack-history.test.ts prove it.
 *
 * Before it declares anything it refuses what would do damage: a URL that logs in as another role
 * than configured, turning on render mode for a stack that is live in a cluster, and, with
 * `tandem:manageRoles: false`, roles that a DBA set up otherwise than Tandem needs. These checks run
 * in `pulumi preview` too, so the walker's preview stops on them with nothing changed.
 *
 * The module exports the program as an async function, which Pulumi calls; its result is the stack outputs.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from './phases/deploy/config-error';
import { parseLoginUrl, providerSslMode } from './phases/deploy/database-url';
import { checkKubernetesTarget, KUBERNETES_TARGET_OUTPUT } from './phases/deploy/kubernetes-target';
import { hasMigrations, RawStackConfig } from './phases/deploy/stack-config';
import { readPlainConfig } from './phases/deploy/stack-config-keys';
import { currentMigrationIndex } from './phases/deploy/migration-history';
import { RoleCheckError } from './phases/sql/role-check';
import { checkRoles } from './executor/role-check';
import { demoReleases, loadMigrations, MigrationInput, resolveStackConfig, TandemMigration } from './lib';

/** The project root (where Pulumi.yaml and bin/tandem.js are), whether run from index.ts or dist/. */
function projectDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'Pulumi.yaml'))) return dir;
    if (path.dirname(dir) === dir) return __dirname;
  }
}

/** An Output's value (config secrets are known in preview too). */
function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/**
 * pulumi-kubernetes 4.25 creates an object with server-side apply, which adopts one that already
 * exists. That is what makes a create that an interrupted update left pending safe to redo (the
 * walker's --recover); with client-side apply it fails with AlreadyExists.
 */
function requireServerSideApply(): void {
  if (new pulumi.Config('kubernetes').getBoolean('enableServerSideApply') === false) {
    throw new ConfigError(
      'kubernetes:enableServerSideApply',
      'is false; Tandem needs server-side apply, so that a create an interrupted update left pending can run again',
    );
  }
}

async function tandemStack() {
  const cfg = new pulumi.Config('tandem');
  const migrationsRaw = cfg.getObject<unknown>('migrations');
  // Every plain key of the one table (phases/deploy/stack-config-keys.ts), each with its type's getter.
  const plain = readPlainConfig(cfg);
  const config = resolveStackConfig({ ...(plain as RawStackConfig), migrations: migrationsRaw });
  // Without tandem:migrations, the talk's demo: one migration, images <appImage>:v1|v2|v3.
  const migrations: readonly MigrationInput[] = hasMigrations(migrationsRaw)
    ? (migrationsRaw as MigrationInput[])
    : [{ spec: config.specPath, releases: demoReleases(config.appImage) }];
  const root = projectDir();
  const migration = (plain.migration as string | undefined) || undefined;
  const history = loadMigrations(migrations, root);
  const current =
    history[
      currentMigrationIndex(
        history.map((m) => m.spec.name),
        migration,
      )
    ];
  const spec = current.spec;
  const stackName = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const databaseUrl = cfg.requireSecret('databaseUrl');
  const appDatabaseUrl = cfg.requireSecret('appDatabaseUrl');
  // The in-cluster verify Job's own read-only login; never the migrator's (no fallback).
  const verifyDatabaseUrl = cfg.requireSecret('verifyDatabaseUrl');
  const dbSchema = spec.schema ?? config.dbSchema;

  // Before anything is declared (in preview too): a URL that logs in as another role than
  // configured is a ConfigError naming the key; so is a URL whose sslmode the provider would misread.
  const migratorUrl = await valueOf(databaseUrl);
  const migrator = parseLoginUrl('tandem:databaseUrl', migratorUrl, config.migratorRole);
  parseLoginUrl('tandem:appDatabaseUrl', await valueOf(appDatabaseUrl), config.appRole);
  parseLoginUrl('tandem:verifyDatabaseUrl', await valueOf(verifyDatabaseUrl), config.verifyRole);
  if (config.manageRoles) providerSslMode('tandem:databaseUrl', migrator);
  if (!config.manageRoles) {
    // The DBA's roles, checked as the migrator before anything is declared (in preview too).
    const report = await checkRoles(
      { ...spec, schema: dbSchema },
      { databaseUrl: migratorUrl, appRole: config.appRole, verifyRole: config.verifyRole },
    );
    if (!report.ok) throw new RoleCheckError(report.problems);
  }
  if (!config.renderYamlTo) requireServerSideApply();
  // The previous update's target, from this stack's own outputs (a read, which changes nothing).
  const self = new pulumi.StackReference('previous', { name: stackName });
  const previousTarget = (await self.getOutputDetails(KUBERNETES_TARGET_OUTPUT)).value;
  const kubernetes = checkKubernetesTarget(stackName, previousTarget, config.renderYamlTo);

  // The render directory is passed as given (relative to the project, where Pulumi runs its
  // plugins), so a checkout at another path does not change the provider and every Kubernetes resource.
  const k8sProvider = config.renderYamlTo
    ? new k8s.Provider('render', { renderYamlToDirectory: config.renderYamlTo })
    : undefined;
  const tandem = new TandemMigration(
    'tandem',
    {
      migrations,
      migration,
      stage: config.stage,
      databaseUrl,
      appDatabaseUrl,
      verifyDatabaseUrl,
      stack: stackName,
      manageRoles: config.manageRoles,
      verifyRole: config.verifyRole,
      appName: config.appName,
      namespace: config.namespace,
      verifyImage: config.verifyImage,
      replicas: config.replicas,
      containerPort: config.appPort,
      steps: config.steps,
      migratorRole: config.migratorRole,
      appRole: config.appRole,
      dbSchema: config.dbSchema,
      projectDir: root,
      cliPath: 'bin/tandem.js',
      // The Commands read tandem:databaseUrl when they run, as since 0.1.0 (no Command input changes).
      databaseUrlConfigKey: 'tandem:databaseUrl',
      // The roles were checked above, before anything was declared.
      checkRoles: false,
      // One TandemMigration per stack here: the names this program's stacks have had since 0.1.0.
      childNames: 'unscoped',
    },
    k8sProvider ? { providers: [k8sProvider] } : undefined,
  );

  const currentRecord = tandem.migrations.find((m) => m.status === 'current')!;
  return {
    stage: tandem.stage,
    schemaState: tandem.plan.schemaState,
    schemaCommands: Object.keys(tandem.schemaChange.commands),
    appVersion: tandem.plan.app.version,
    appRole: tandem.plan.app.role,
    image: tandem.image,
    migration: tandem.migration,
    specHash: currentRecord.specHash,
    migrations: tandem.migrations,
    rollout: { name: tandem.rollout.rolloutName, namespace: config.namespace },
    [KUBERNETES_TARGET_OUTPUT]: kubernetes,
    manageRoles: config.manageRoles,
  };
}

export = tandemStack;
