/**
 * What the e2e tests that drive `tandem walk` on the real engine share: the walker's environment
 * (the toolchain's pulumi first on PATH, a file backend in the test's directory), the gates against
 * the loopback cluster, and the stack config of Tandem's own program with roles made by the test
 * (`tandem:manageRoles false`).
 */
import * as path from 'path';
import { createGates, Gates } from '../../automation/gates';
import { StackDriver } from '../../automation/stack-driver';
import { grantAppRoles } from '../../test/app-roles';
import { freshDatabase, sql } from '../../test/db';
import { KubeClient, KubeError } from '../kube';
import { readRolloutInNode, REPO } from './e2e-kit';

/** The database URL as another user. */
export function urlAs(dbUrl: string, user: string, password: string): string {
  const u = new URL(dbUrl);
  u.username = user;
  u.password = password;
  return u.toString();
}

/**
 * The walker's environment: the toolchain's pulumi on PATH and a file backend under `work/state`.
 * The Commands find the pulumi CLI through the engine's environment (the walker's), so the test
 * process's PATH gets it too.
 */
export function walkEnv(work: string): NodeJS.ProcessEnv {
  const env = {
    ...process.env,
    PATH: `${process.env.TANDEM_E2E_BIN}${path.delimiter}${process.env.PATH}`,
    PULUMI_BACKEND_URL: 'file://' + path.join(work, 'state'),
    PULUMI_CONFIG_PASSPHRASE: 'e2e',
    PULUMI_SKIP_UPDATE_CHECK: 'true',
  };
  process.env.PATH = env.PATH;
  return env;
}

/** The walker's gates against the loopback cluster (for the checkout in `projectDir`, the repository by default). */
export function walkGates(k: KubeClient, d: StackDriver, projectDir: string = REPO): Gates {
  const namespaceExists = async (name: string): Promise<boolean> => {
    try {
      await k.request('GET', `/api/v1/namespaces/${name}`);
      return true;
    } catch (e) {
      if (e instanceof KubeError && e.code === 404) return false;
      throw e;
    }
  };
  return createGates({
    driver: d,
    projectDir,
    readRollout: readRolloutInNode,
    namespaceExists,
    waitSeconds: 300,
    pollSeconds: 1,
  });
}

/** A release of the demo app, as `tandem:migrations` takes it. */
export const demoRelease = (v: string) => ({ image: `registry.invalid/tandem-demo:${v}`, env: { APP_VERSION: v } });

export interface WalkStackConfig {
  readonly stackName: string;
  readonly env: NodeJS.ProcessEnv;
  readonly dbUrl: string;
  /** The roles the test made, each with its password. */
  readonly roles: { readonly migrator: string; readonly app: string; readonly verify: string };
  readonly app: string;
  readonly namespace: string;
  /** `tandem:migrations`: each spec with its releases. */
  readonly migrations: readonly { spec: string; releases: Record<string, unknown> }[];
}

/** The stack as the test sets its config: the same project, backend and pulumi CLI as the walker's. */
export async function workspaceStack(stackName: string, env: NodeJS.ProcessEnv) {
  const auto = await import('@pulumi/pulumi/automation');
  const pulumiCommand = await auto.PulumiCommand.get({ root: path.dirname(process.env.TANDEM_E2E_BIN!) });
  return auto.LocalWorkspace.selectStack(
    { stackName, workDir: REPO },
    { envVars: env as Record<string, string>, pulumiCommand },
  );
}

/** Sets the stack config of Tandem's own program for a walk against the loopback cluster. */
export async function configureWalkStack(c: WalkStackConfig): Promise<void> {
  const stack = await workspaceStack(c.stackName, c.env);
  const { migrator, app, verify } = c.roles;
  await stack.setAllConfig({
    'tandem:migrations': { value: JSON.stringify(c.migrations) },
    'tandem:migration': { value: 'split-full-name' },
    'tandem:databaseUrl': { value: urlAs(c.dbUrl, migrator, 'migrator'), secret: true },
    'tandem:appDatabaseUrl': { value: urlAs(c.dbUrl, app, 'app'), secret: true },
    // The verify Job runs on this host (job runner), so it reaches the database as the test does.
    'tandem:verifyDatabaseUrl': { value: urlAs(c.dbUrl, verify, 'verify'), secret: true },
    'tandem:migratorRole': { value: migrator },
    'tandem:appRole': { value: app },
    'tandem:verifyRole': { value: verify },
    'tandem:manageRoles': { value: 'false' },
    'tandem:verifyImage': { value: 'registry.invalid/tandem:e2e' },
    'tandem:appName': { value: c.app },
    'tandem:namespace': { value: c.namespace },
    'tandem:replicas': { value: '2' },
    'tandem:canarySteps': { value: 'setWeight 50, pause 2s, analysis, setWeight 100' },
  });
}

/**
 * The database of a walk with `tandem:manageRoles false`: the migrator owns it and the table
 * (`tableSql`, run as the migrator), the app and verify roles made here as Tandem needs them;
 * passwords are the role's kind (`migrator`, `app`, `verify`).
 */
export async function makeWalkDatabase(
  prefix: string,
  roles: WalkStackConfig['roles'],
  tableSql: string,
): Promise<string> {
  const dbUrl = await freshDatabase(prefix);
  const dbName = new URL(dbUrl).pathname.slice(1);
  await sql(
    dbUrl,
    `CREATE ROLE ${roles.migrator} LOGIN PASSWORD 'migrator' CREATEROLE; ALTER DATABASE "${dbName}" OWNER TO ${roles.migrator}`,
  );
  await sql(urlAs(dbUrl, roles.migrator, 'migrator'), tableSql);
  await grantAppRoles(urlAs(dbUrl, roles.migrator, 'migrator'), roles.migrator, [
    { appRole: roles.app, verifyRole: roles.verify, table: 'customers' },
  ]);
  await sql(dbUrl, `ALTER ROLE ${roles.app} PASSWORD 'app'; ALTER ROLE ${roles.verify} PASSWORD 'verify'`);
  return dbUrl;
}
