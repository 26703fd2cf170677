/**
 * The Tandem Pulumi program: reads the stage from `tandem:stage` and declares exactly that stack
 * state (phases/deploy/stack-state.ts). Schema side: DatabaseAccess + SchemaChange. App side: AppRollout.
 * Adjacent stages differ in one side only (hard rule 1); test/stack-states.test.ts proves it.
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
import * as postgresql from '@pulumi/postgresql';
import * as pulumi from '@pulumi/pulumi';
import { AppRollout } from './components/app-rollout';
import { DatabaseAccess } from './components/database-access';
import { SchemaChange } from './components/schema-change';
import { planAccess } from './phases/sql/access-plan';
import { parseLoginUrl, providerSslMode } from './phases/deploy/database-url';
import { ConfigError } from './phases/deploy/config-error';
import { checkKubernetesTarget, KUBERNETES_TARGET_OUTPUT } from './phases/deploy/kubernetes-target';
import { RoleCheckError } from './phases/sql/role-check';
import { checkRoles } from './executor/role-check';
import { loadSpecFile } from './phases/sql/spec';
import { resolveStackConfig, StackConfig } from './phases/deploy/stack-config';
import { planStackState } from './phases/deploy/stack-state';

/** The project root (where Pulumi.yaml and bin/tandem.js are), whether run from index.ts or dist/. */
function projectDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'Pulumi.yaml'))) return dir;
    if (path.dirname(dir) === dir) return __dirname;
  }
}

function readStackConfig(cfg: pulumi.Config): StackConfig {
  return resolveStackConfig({
    stage: cfg.get('stage'),
    spec: cfg.get('spec'),
    appName: cfg.get('appName'),
    namespace: cfg.get('namespace'),
    appImage: cfg.get('appImage'),
    verifyImage: cfg.get('verifyImage'),
    replicas: cfg.getNumber('replicas'),
    appPort: cfg.getNumber('appPort'),
    canaryPause: cfg.get('canaryPause'),
    canarySteps: cfg.get('canarySteps'),
    dbSchema: cfg.get('dbSchema'),
    migratorRole: cfg.get('migratorRole'),
    appRole: cfg.get('appRole'),
    verifyRole: cfg.get('verifyRole'),
    manageRoles: cfg.getBoolean('manageRoles'),
    renderYamlTo: cfg.get('renderYamlTo'),
  });
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
    throw new ConfigError('kubernetes:enableServerSideApply', 'is false; Tandem needs server-side apply, so that a create an interrupted update left pending can run again');
  }
}

async function tandemStack() {
  const cfg = new pulumi.Config('tandem');
  const config = readStackConfig(cfg);
  const root = projectDir();
  const specFile = path.resolve(root, config.specPath);
  const spec = loadSpecFile(specFile);
  const state = planStackState(config.stage);
  const stackName = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const databaseUrl = cfg.requireSecret('databaseUrl');
  const appDatabaseUrl = cfg.requireSecret('appDatabaseUrl');
  // The in-cluster verify Job's own read-only login; never the migrator's (no fallback).
  const verifyDatabaseUrl = cfg.requireSecret('verifyDatabaseUrl');
  const dbSchema = spec.schema ?? config.dbSchema;

  // A URL that logs in as another role than configured is a ConfigError naming the key.
  const migratorUrl = await valueOf(databaseUrl);
  const migrator = parseLoginUrl('tandem:databaseUrl', migratorUrl, config.migratorRole);
  const app = parseLoginUrl('tandem:appDatabaseUrl', await valueOf(appDatabaseUrl), config.appRole);
  const verify = parseLoginUrl('tandem:verifyDatabaseUrl', await valueOf(verifyDatabaseUrl), config.verifyRole);
  // Only the postgresql provider needs it (the tandem CLI's node-postgres reads the URL itself); checked before anything is declared.
  const sslmode = config.manageRoles ? providerSslMode('tandem:databaseUrl', migrator) : undefined;
  const plan = planAccess({
    schema: dbSchema,
    migratorRole: config.migratorRole,
    appRole: config.appRole,
    verify: { role: config.verifyRole, table: spec.table },
  });

  if (!config.manageRoles) {
    // The DBA's roles, checked as the migrator before anything is declared (in preview too).
    const report = await checkRoles({ ...spec, schema: dbSchema }, { databaseUrl: migratorUrl, appRole: config.appRole, verifyRole: config.verifyRole });
    if (!report.ok) throw new RoleCheckError(report.problems);
  }
  if (!config.renderYamlTo) requireServerSideApply();
  // The previous update's target, from this stack's own outputs (a read, which changes nothing).
  const self = new pulumi.StackReference('previous', { name: stackName });
  const previousTarget = (await self.getOutputDetails(KUBERNETES_TARGET_OUTPUT)).value;
  const kubernetes = checkKubernetesTarget(stackName, previousTarget, config.renderYamlTo);

  // Schema side: the database team's identity (the migrator) manages the app and verify roles, and runs tandem.
  if (config.manageRoles) {
    const pg = new postgresql.Provider('migrator', {
      host: migrator.host,
      port: migrator.port,
      username: migrator.username,
      password: pulumi.secret(migrator.password),
      database: migrator.database,
      sslmode,
      superuser: false,
    });
    new DatabaseAccess(
      'database',
      { plan, database: migrator.database, passwords: { [config.appRole]: pulumi.secret(app.password), [config.verifyRole]: pulumi.secret(verify.password) } },
      { providers: [pg] },
    );
  }
  const schema = new SchemaChange(spec.name, {
    commands: state.schema.commands,
    cliPath: 'bin/tandem.js',
    specPath: path.relative(root, specFile),
    specHash: spec.hash,
    stack: stackName,
  });

  // App side: the Rollout of the stage's app version. The render directory is passed as given
  // (relative to the project, where Pulumi runs its plugins), so a checkout at another path does
  // not change the provider and with it every Kubernetes resource.
  const k8sProvider = config.renderYamlTo ? new k8s.Provider('render', { renderYamlToDirectory: config.renderYamlTo }) : undefined;
  const rollout = new AppRollout(
    config.appName,
    {
      app: config.appName,
      namespace: config.namespace,
      image: config.appImage,
      imageTag: state.app.imageTag,
      appVersion: state.app.version,
      replicas: config.replicas,
      containerPort: config.appPort,
      steps: config.steps,
      verifyImage: config.verifyImage,
      specFile: path.basename(specFile),
      specText: fs.readFileSync(specFile, 'utf8'),
      appDatabaseUrl,
      verifyDatabaseUrl,
    },
    k8sProvider ? { providers: [k8sProvider] } : undefined,
  );

  return {
    stage: state.stage,
    schemaState: state.schema.state,
    schemaCommands: Object.keys(schema.commands),
    appVersion: state.app.version,
    image: `${config.appImage}:${state.app.imageTag}`,
    migration: spec.name,
    specHash: spec.hash,
    rollout: { name: rollout.rolloutName, namespace: config.namespace },
    [KUBERNETES_TARGET_OUTPUT]: kubernetes,
    manageRoles: config.manageRoles,
  };
}

export = tandemStack;
