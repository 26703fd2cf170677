/**
 * The Tandem Pulumi program: the thinnest user of the package API (lib/index.ts). It reads the
 * stack config (`tandem:stage`, `tandem:migrations` and `tandem:migration`, or the demo's
 * `tandem:spec` + `tandem:appImage`) and declares that stack state with one TandemMigration.
 * Adjacent stages differ in one side only (hard rule 1); test/stack-states.test.ts and
 * test/stack-history.test.ts prove it.
 *
 * The module exports the program as a function, which Pulumi calls; its result is the stack outputs.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { demoReleases, MigrationInput, resolveStackConfig, TandemMigration } from './lib';
import { hasMigrations } from './phases/deploy/stack-config';

/** The project root (where Pulumi.yaml and bin/tandem.js are), whether run from index.ts or dist/. */
function projectDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'Pulumi.yaml'))) return dir;
    if (path.dirname(dir) === dir) return __dirname;
  }
}

function tandemStack() {
  const cfg = new pulumi.Config('tandem');
  const migrationsRaw = cfg.getObject<unknown>('migrations');
  const config = resolveStackConfig({
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
    migrations: migrationsRaw,
  });
  // Without tandem:migrations, the talk's demo: one migration, images <appImage>:v1|v2|v3.
  const migrations: readonly MigrationInput[] = hasMigrations(migrationsRaw)
    ? (migrationsRaw as MigrationInput[])
    : [{ spec: config.specPath, releases: demoReleases(config.appImage) }];
  const root = projectDir();

  // The render directory is passed as given (relative to the project, where Pulumi runs its
  // plugins), so a checkout at another path does not change the provider and every Kubernetes resource.
  const k8sProvider = config.renderYamlTo ? new k8s.Provider('render', { renderYamlToDirectory: config.renderYamlTo }) : undefined;
  const tandem = new TandemMigration(
    'tandem',
    {
      migrations,
      migration: cfg.get('migration') || undefined,
      stage: config.stage,
      databaseUrl: cfg.requireSecret('databaseUrl'),
      appDatabaseUrl: cfg.requireSecret('appDatabaseUrl'),
      // The in-cluster verify Job's own read-only login; never the migrator's (no fallback).
      verifyDatabaseUrl: cfg.requireSecret('verifyDatabaseUrl'),
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
    },
    k8sProvider ? { providers: [k8sProvider] } : undefined,
  );

  const current = tandem.migrations.find((m) => m.status === 'current')!;
  return {
    stage: tandem.stage,
    schemaState: tandem.plan.schemaState,
    schemaCommands: Object.keys(tandem.schemaChange.commands),
    appVersion: tandem.plan.app.version,
    appRole: tandem.plan.app.role,
    image: tandem.image,
    migration: tandem.migration,
    specHash: current.specHash,
    migrations: tandem.migrations,
    rollout: { name: tandem.rollout.rolloutName, namespace: config.namespace },
  };
}

export = tandemStack;
