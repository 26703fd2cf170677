/**
 * The Tandem Pulumi program: reads the stage from `tandem:stage` and declares exactly that stack
 * state (phases/deploy/stack-state.ts). Schema side: DatabaseAccess + SchemaChange. App side: AppRollout.
 * Adjacent stages differ in one side only (hard rule 1); test/stack-states.test.ts proves it.
 *
 * The module exports the program as a function, which Pulumi calls; its result is the stack outputs.
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
import { parseLoginUrl } from './phases/deploy/database-url';
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
    canarySteps: cfg.getObject<unknown>('canarySteps'),
    dbSchema: cfg.get('dbSchema'),
    migratorRole: cfg.get('migratorRole'),
    appRole: cfg.get('appRole'),
    renderYamlTo: cfg.get('renderYamlTo'),
  });
}

function tandemStack() {
  const cfg = new pulumi.Config('tandem');
  const config = readStackConfig(cfg);
  const root = projectDir();
  const specFile = path.resolve(root, config.specPath);
  const spec = loadSpecFile(specFile);
  const state = planStackState(config.stage);
  const databaseUrl = cfg.requireSecret('databaseUrl');
  const appDatabaseUrl = cfg.requireSecret('appDatabaseUrl');
  // The in-cluster verify Job's own read-only login; never the migrator's (no fallback).
  const verifyDatabaseUrl = cfg.requireSecret('verifyDatabaseUrl');

  // Schema side: the database team's identity (the migrator) manages the app role and runs tandem.
  // A URL that logs in as another role than configured fails the update with a ConfigError naming the key.
  const migrator = databaseUrl.apply((u) => parseLoginUrl('tandem:databaseUrl', u, config.migratorRole));
  const app = appDatabaseUrl.apply((u) => parseLoginUrl('tandem:appDatabaseUrl', u, config.appRole));
  // Host, port, user and database name are not secret; only the password stays one.
  const database = pulumi.unsecret(migrator.database);
  const pg = new postgresql.Provider('migrator', {
    host: pulumi.unsecret(migrator.host),
    port: pulumi.unsecret(migrator.port),
    username: pulumi.unsecret(migrator.username),
    password: migrator.password,
    database,
    sslmode: pulumi.unsecret(migrator.apply((m) => m.sslmode)),
    superuser: false,
  });
  const plan = planAccess({ schema: spec.schema ?? config.dbSchema, migratorRole: config.migratorRole, appRole: config.appRole });
  new DatabaseAccess('database', { plan, database, passwords: { [config.appRole]: app.password } }, { providers: [pg] });
  const schema = new SchemaChange(spec.name, {
    commands: state.schema.commands,
    projectDir: root,
    cliPath: 'bin/tandem.js',
    specPath: path.relative(root, specFile),
    specHash: spec.hash,
    databaseUrl,
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
  };
}

export = tandemStack;
