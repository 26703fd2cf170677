/**
 * TandemMigration in a team's own program, under the shared mocks (the real SDK runtime): their pod
 * template or their Deployment by workloadRef, their executor options and database URL on the
 * Commands, the role check with manageRoles false (on a real PostgreSQL), two migrations of two
 * tables and two apps in one program with scoped names and aliases to the 0.1 names, and the
 * project directory resolved from the engine or refused (ProjectPathError).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';
import { TandemMigration, TandemMigrationArgs } from '../components/tandem-migration';
import { ConfigError } from '../phases/deploy/config-error';
import { ProjectPathError } from '../phases/deploy/project-path';
import { planAccess } from '../phases/sql/access-plan';
import { renderAccessSql } from '../phases/sql/access-sql';
import { freshDatabase, sql, withClient } from './db';
import { recordResources, ResourceRecorder, settled } from './mocks';
import { APP_URL, MIGRATOR_URL, SPLIT_FULL_NAME_SPEC, VERIFY_URL } from './stack-run';

const ROOT = path.join(__dirname, '..');

const ORDERS_SPEC = `name: orders-total-cents
table: orders
operations:
  - change_type:
      column: total
      into: total_cents
      type: bigint
      up: "round(total * 100)::bigint"
      down: "(total_cents / 100.0)::numeric(12,2)"
`;

/** A project directory of the team's: Pulumi.yaml and the specs under migrations/. */
function teamProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-team-'));
  fs.writeFileSync(path.join(dir, 'Pulumi.yaml'), 'name: team\nruntime: nodejs\n');
  fs.mkdirSync(path.join(dir, 'migrations'));
  fs.writeFileSync(path.join(dir, 'migrations', 'split-full-name.yaml'), SPLIT_FULL_NAME_SPEC);
  fs.writeFileSync(path.join(dir, 'migrations', 'orders-total-cents.yaml'), ORDERS_SPEC);
  return dir;
}

const TEAM_POD = {
  metadata: { labels: { team: 'checkout' } },
  spec: {
    serviceAccountName: 'shop-web',
    containers: [
      {
        name: 'web',
        image: 'placeholder',
        resources: { requests: { cpu: '250m', memory: '256Mi' } },
        readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
        env: [{ name: 'LOG_LEVEL', value: 'info' }],
      },
      { name: 'envoy', image: 'envoyproxy/envoy:v1.31.0', resources: { limits: { memory: '128Mi' } } },
    ],
    volumes: [{ name: 'cache', emptyDir: {} }],
  },
};

const releases = (app: string) => ({
  old: `ghcr.io/acme/${app}:1.0.0`,
  dual: `ghcr.io/acme/${app}:1.1.0`,
  new: `ghcr.io/acme/${app}:1.2.0`,
});

function baseArgs(dir: string, over: Partial<TandemMigrationArgs> = {}): TandemMigrationArgs {
  return {
    migrations: [{ spec: 'migrations/split-full-name.yaml', releases: releases('shop') }],
    stage: 'contract',
    databaseUrl: pulumi.secret(MIGRATOR_URL),
    appDatabaseUrl: pulumi.secret(APP_URL),
    verifyDatabaseUrl: pulumi.secret(VERIFY_URL),
    appName: 'shop',
    namespace: 'shop',
    verifyImage: 'ghcr.io/acme/tandem:0.1.0',
    projectDir: dir,
    ...over,
  };
}

/**
 * Install the mocks and the config, declare, wait. A component whose registration failed (a check
 * that runs before it registers) rejects its URN: that rejection is `error`.
 */
async function declare(
  config: Record<string, string>,
  make: () => unknown,
): Promise<{ recorder: ResourceRecorder; error?: unknown }> {
  const recorder = await recordResources();
  pulumi.runtime.setAllConfig(config, Object.keys(config));
  const made = make();
  const components = (
    Array.isArray(made)
      ? made
      : made && typeof made === 'object' && !(made instanceof pulumi.Resource)
        ? Object.values(made)
        : [made]
  ).filter((m): m is pulumi.Resource => m instanceof pulumi.Resource);
  const urns = await Promise.allSettled(components.map((c) => (c.urn as any).promise()));
  const failed = urns.find((u): u is PromiseRejectedResult => u.status === 'rejected');
  if (failed) return { recorder, error: failed.reason };
  await settled();
  return { recorder };
}

/**
 * A check that fails once the component registers fails the program the way the language host
 * reports it: an unhandled rejection (jest keeps those from a test), so these run in a child
 * process on the built package (dist/), under setMocks, reporting the error and what registered.
 */
function runUnderMocks(
  dir: string,
  config: Record<string, string>,
  argsSource: string,
): { error: any; resources: string[] } {
  const script = `
const pulumi = require('@pulumi/pulumi');
const resources = [];
pulumi.runtime.setMocks({ newResource(a) { resources.push(a.name); return { id: a.name + '-id', state: a.inputs }; }, call() { return {}; } }, 'tandem', 'test', false, 'organization');
pulumi.runtime.setAllConfig(${JSON.stringify(config)}, ${JSON.stringify(Object.keys(config))});
process.on('unhandledRejection', (e) => {
  process.stdout.write(JSON.stringify({ error: { ...e, kind: e && e.kind, message: String(e && e.message) }, resources }));
  process.exit(0);
});
const { TandemMigration } = require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'index.js'))});
new TandemMigration('shop', ${argsSource});
pulumi.runtime.waitForRPCs().then(() => process.stdout.write(JSON.stringify({ error: null, resources })));
`;
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
  });
  // (Pulumi's exit hook reports the registrations the failure left pending, with a nonzero status.)
  if (!r.stdout.startsWith('{')) throw new Error(`the program under mocks failed otherwise: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const commands = (r: ResourceRecorder) => Object.fromEntries(r.ofType('command:local:Command').map((c) => [c.name, c]));
const rolloutOf = (r: ResourceRecorder) => r.ofType('kubernetes:argoproj.io/v1alpha1:Rollout');

describe('their workload', () => {
  it("the Rollout runs their pod template: their containers, resources, service account, probes and volumes, plus the release's image and the database env var on the named container", async () => {
    const dir = teamProject();
    const { recorder, error } = await declare(
      {},
      () =>
        new TandemMigration(
          'shop',
          baseArgs(dir, {
            stage: 'dual-write',
            podTemplate: TEAM_POD,
            container: 'web',
            databaseUrlEnv: 'SHOP_DB_URL',
            databaseUrlConfigKey: null,
          }),
        ),
    );
    expect(error).toBeUndefined();
    const [rollout] = rolloutOf(recorder);
    const spec = rollout.inputs.spec.template.spec;
    expect(spec.serviceAccountName).toBe('shop-web');
    expect(spec.volumes).toEqual(TEAM_POD.spec.volumes);
    expect(spec.containers.map((c: any) => c.name)).toEqual(['web', 'envoy']);
    expect(spec.containers[1]).toEqual(TEAM_POD.spec.containers[1]);
    expect(spec.containers[0]).toEqual({
      ...TEAM_POD.spec.containers[0],
      image: 'ghcr.io/acme/shop:1.1.0',
      env: [
        { name: 'LOG_LEVEL', value: 'info' },
        { name: 'SHOP_DB_URL', valueFrom: { secretKeyRef: { name: 'shop-db', key: 'DATABASE_URL' } } },
      ],
    });
    expect(rollout.inputs.spec.template.metadata.labels).toEqual({
      team: 'checkout',
      'app.kubernetes.io/name': 'shop',
      'tandem.dev/app-version': 'v2',
    });
    expect(rollout.inputs.spec.strategy.canary.steps.filter((s: any) => 'analysis' in s)).toEqual([
      { analysis: { templates: [{ templateName: 'shop-verify' }], args: [{ name: 'app-version', value: 'v2' }] } },
    ]);
  });

  it('with several containers and none named: a ConfigError, nothing declared', async () => {
    const dir = teamProject();
    const { recorder } = await declare({}, () => {
      expect(
        () => new TandemMigration('shop', baseArgs(dir, { podTemplate: TEAM_POD, databaseUrlConfigKey: null })),
      ).toThrow('container: the pod template has 2 containers (web, envoy); name the one that runs the release');
    });
    expect(recorder.all).toEqual([]);
  });

  it('their Deployment by workloadRef: the Rollout references it with scaleDown, no template of its own; the Deployment is left to the team, and podTemplate() gives its template the release', async () => {
    const dir = teamProject();
    let migration: TandemMigration | undefined;
    const { recorder, error } = await declare({}, () => {
      migration = new TandemMigration(
        'shop',
        baseArgs(dir, {
          stage: 'baseline',
          workloadRef: { name: 'shop-web', scaleDown: 'onsuccess' },
          databaseUrlConfigKey: null,
        }),
      );
    });
    expect(error).toBeUndefined();
    const [rollout] = rolloutOf(recorder);
    expect(rollout.inputs.spec.workloadRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'shop-web',
      scaleDown: 'onsuccess',
    });
    expect(rollout.inputs.spec.template).toBeUndefined();
    expect(recorder.all.filter((r) => r.type.startsWith('kubernetes:apps/'))).toEqual([]);
    const template = migration!.podTemplate(TEAM_POD, 'web');
    expect(template.spec.containers.map((c: any) => c.image)).toEqual([
      'ghcr.io/acme/shop:1.0.0',
      'envoyproxy/envoy:v1.31.0',
    ]);
    expect(template.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'shop',
      'tandem.dev/app-version': 'v1',
    });
  });

  it('podTemplate and workloadRef together: refused', async () => {
    const dir = teamProject();
    await declare({}, () => {
      expect(
        () =>
          new TandemMigration(
            'shop',
            baseArgs(dir, { podTemplate: TEAM_POD, container: 'web', workloadRef: { name: 'shop-web' } }),
          ),
      ).toThrow(ConfigError);
    });
  });

  it('steps without an analysis step: a ConfigError before anything is declared', async () => {
    const dir = teamProject();
    const { recorder } = await declare({}, () => {
      expect(
        () =>
          new TandemMigration(
            'shop',
            baseArgs(dir, { steps: [{ setWeight: 50 }, { setWeight: 100 }], databaseUrlConfigKey: null }),
          ),
      ).toThrow('steps: has no analysis step');
    });
    expect(recorder.all).toEqual([]);
  });
});

describe('their settings', () => {
  it('executor options land as flags on the Commands of the steps that take them; verify takes none', async () => {
    const dir = teamProject();
    const executor = {
      lockTimeoutMs: 2000,
      holdTimeoutMs: 4000,
      chunkTimeMs: 250,
      batchSize: 500,
      throttleMs: 10,
      maxLag: '1s',
      maxLagBytes: 1048576,
      maxLoad: 20,
      criticalLoad: 60,
      pauseFile: '/tmp/tandem pause',
    };
    const { recorder, error } = await declare(
      {},
      () => new TandemMigration('shop', baseArgs(dir, { executor, databaseUrlConfigKey: null })),
    );
    expect(error).toBeUndefined();
    const c = commands(recorder);
    const spec = 'migrations/split-full-name.yaml';
    expect(c['shop-split-full-name-expand'].inputs.create).toMatch(
      new RegExp(`expand ${spec} --lock-timeout 2000 --hold-timeout 4000 >/dev/null$`),
    );
    expect(c['shop-split-full-name-expand'].inputs.delete).toMatch(
      new RegExp(`rollback ${spec} --lock-timeout 2000 --hold-timeout 4000 >/dev/null$`),
    );
    expect(c['shop-split-full-name-backfill'].inputs.create).toMatch(
      new RegExp(
        `backfill ${spec} --lock-timeout 2000 --chunk-time 250 --batch-size 500 --throttle-ms 10 --max-lag 1s --max-lag-bytes 1048576 --max-load 20 --critical-load 60 --pause-file '/tmp/tandem pause' >/dev/null$`,
      ),
    );
    expect(c['shop-split-full-name-verify'].inputs.create).toMatch(new RegExp(`verify ${spec} >/dev/null$`));
    expect(c['shop-split-full-name-contract'].inputs.create).toMatch(
      new RegExp(`contract ${spec} --lock-timeout 2000 --hold-timeout 4000 >/dev/null$`),
    );
  });

  it.each([
    [{ maxLoad: 0 }, 'executor.maxLoad: must be a whole number of at least 1 (--max-load), not 0'],
    [{ maxLag: 'soon' }, 'executor.maxLag: must be a duration such as 1s, 500ms or 2min (--max-lag), not "soon"'],
    [{ lockTimeout: 10 }, 'executor.lockTimeout: is not an executor option'],
  ])('refuses the executor options %j before anything is declared', async (executor, message) => {
    const dir = teamProject();
    const { recorder } = await declare({}, () => {
      expect(
        () => new TandemMigration('shop', baseArgs(dir, { executor: executor as any, databaseUrlConfigKey: null })),
      ).toThrow(message);
    });
    expect(recorder.all).toEqual([]);
  });

  it("given databaseUrl from the team's own config key and no tandem:databaseUrl, the Commands carry that URL (a secret in their environment), never in the line", async () => {
    const dir = teamProject();
    const own = 'postgres://shop_migrator:s3cret@db.acme.internal:5432/shop?sslmode=require';
    const cfg = { 'shop:migratorUrl': own };
    const { recorder, error } = await declare(
      cfg,
      () =>
        new TandemMigration(
          'shop',
          baseArgs(dir, {
            databaseUrl: new pulumi.Config('shop').requireSecret('migratorUrl'),
            migratorRole: 'shop_migrator',
          }),
        ),
    );
    expect(error).toBeUndefined();
    for (const c of recorder.ofType('command:local:Command')) {
      expect(c.inputs.environment).toEqual({ TANDEM_SPEC_SHA256: expect.any(String), DATABASE_URL: own });
      expect(c.secretInputs).toContain('environment.DATABASE_URL');
      expect(`${c.inputs.create} ${c.inputs.delete ?? ''}`).not.toContain('s3cret');
    }
  });

  it('databaseUrlConfigKey names their key: the Commands name it (and the stack) instead of carrying the URL', async () => {
    const dir = teamProject();
    const own = 'postgres://shop_migrator:s3cret@db.acme.internal:5432/shop?sslmode=require';
    const { recorder, error } = await declare(
      { 'shop:migratorUrl': own },
      () =>
        new TandemMigration(
          'shop',
          baseArgs(dir, {
            databaseUrl: new pulumi.Config('shop').requireSecret('migratorUrl'),
            databaseUrlConfigKey: 'shop:migratorUrl',
            migratorRole: 'shop_migrator',
          }),
        ),
    );
    expect(error).toBeUndefined();
    for (const c of recorder.ofType('command:local:Command')) {
      expect(c.inputs.environment).toEqual({
        TANDEM_SPEC_SHA256: expect.any(String),
        TANDEM_STACK: 'organization/tandem/test',
        TANDEM_DATABASE_URL_CONFIG: 'shop:migratorUrl',
      });
    }
  });

  it('databaseUrlConfigKey naming a key that holds another URL: the program fails naming the key, and nothing of the component is declared', () => {
    const dir = teamProject();
    const r = runUnderMocks(
      dir,
      { 'shop:migratorUrl': MIGRATOR_URL },
      `{
      migrations: [{ spec: 'migrations/split-full-name.yaml', releases: ${JSON.stringify(releases('shop'))} }], stage: 'contract',
      databaseUrl: pulumi.secret(${JSON.stringify(MIGRATOR_URL.replace('db.example.internal', 'db-replica.example.internal'))}), databaseUrlConfigKey: 'shop:migratorUrl',
      appDatabaseUrl: pulumi.secret(${JSON.stringify(APP_URL)}), verifyDatabaseUrl: pulumi.secret(${JSON.stringify(VERIFY_URL)}),
      appName: 'shop', verifyImage: 'ghcr.io/acme/tandem:0.1.0', projectDir: ${JSON.stringify(dir)} }`,
    );
    expect(r.error).toMatchObject({ kind: 'config', key: 'shop:migratorUrl' });
    expect(r.error.message).toContain(
      'shop:migratorUrl: holds another URL than the databaseUrl given to TandemMigration',
    );
    expect(r.resources).toEqual([]);
  });

  it('databaseUrlConfigKey naming a key this stack does not set: a ConfigError', async () => {
    const dir = teamProject();
    await declare({}, () => {
      expect(() => new TandemMigration('shop', baseArgs(dir, { databaseUrlConfigKey: 'shop:migratorUrl' }))).toThrow(
        'shop:migratorUrl: is not set in this stack',
      );
    });
  });
});

describe('the project directory', () => {
  it('not given, and the engine names none (as under setMocks): ProjectPathError, nothing declared', async () => {
    const dir = teamProject();
    const { recorder } = await declare({}, () => {
      let caught: unknown;
      try {
        new TandemMigration('shop', baseArgs(dir, { projectDir: undefined }));
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(ProjectPathError);
      expect(caught).toMatchObject({ kind: 'project_path', what: 'projectDir' });
    });
    expect(recorder.all).toEqual([]);
  });

  it('a CLI path that does not exist in the project: ProjectPathError naming it', async () => {
    const dir = teamProject();
    await declare({}, () => {
      expect(() => new TandemMigration('shop', baseArgs(dir, { cliPath: 'tools/tandem.js' }))).toThrow(
        ProjectPathError,
      );
    });
  });

  it("the CLI defaults to this package's, relative to the project directory; the spec path too", async () => {
    const dir = teamProject();
    const { recorder } = await declare(
      {},
      () => new TandemMigration('shop', baseArgs(dir, { databaseUrlConfigKey: null })),
    );
    const cli = path.relative(dir, path.join(ROOT, 'bin', 'tandem.js'));
    expect(commands(recorder)['shop-split-full-name-expand'].inputs.create).toBe(
      `node ${cli} expand migrations/split-full-name.yaml >/dev/null`,
    );
  });
});

describe('two TandemMigrations in one program', () => {
  const declareTwo = (dir: string) => {
    const shop = new TandemMigration('shop', baseArgs(dir, { databaseUrlConfigKey: null }));
    const orders = new TandemMigration(
      'orders',
      baseArgs(dir, {
        migrations: [{ spec: 'migrations/orders-total-cents.yaml', releases: releases('orders') }],
        stage: 'dual-write',
        appName: 'orders',
        appRole: 'orders_app',
        verifyRole: 'orders_verify',
        databaseUrlConfigKey: null,
        appDatabaseUrl: pulumi.secret('postgres://orders_app:a@postgres.shop.svc:5432/shop'),
        verifyDatabaseUrl: pulumi.secret('postgres://orders_verify:v@postgres.shop.svc:5432/shop'),
      }),
    );
    return { shop, orders };
  };

  it('two tables, two apps: every child named under its component, no two resources of one name', async () => {
    const dir = teamProject();
    const { recorder, error } = await declare({}, () => declareTwo(dir));
    expect(error).toBeUndefined();
    const names = recorder.all.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(Object.keys(commands(recorder)).sort()).toEqual([
      'orders-orders-total-cents-backfill',
      'orders-orders-total-cents-expand',
      'shop-split-full-name-backfill',
      'shop-split-full-name-contract',
      'shop-split-full-name-expand',
      'shop-split-full-name-verify',
    ]);
    const rollouts = rolloutOf(recorder);
    expect(
      rollouts.map((r) => [r.name, r.inputs.metadata.name, r.inputs.spec.template.spec.containers[0].image]).sort(),
    ).toEqual([
      ['orders-app-rollout', 'orders', 'ghcr.io/acme/orders:1.1.0'],
      ['shop-app-rollout', 'shop', 'ghcr.io/acme/shop:1.2.0'],
    ]);
    for (const r of recorder.all.filter((x) => x.type !== 'tandem:index:TandemMigration')) {
      let top = r;
      while (recorder.parentOf(top) && recorder.parentOf(top)!.type !== 'tandem:index:TandemMigration')
        top = recorder.parentOf(top)!;
      const component = recorder.parentOf(top)!;
      expect({ name: r.name, under: r.name.startsWith(`${component.name}-`) }).toEqual({ name: r.name, under: true });
    }
  });

  it("each child and each of its resources carries an alias to the name Tandem 0.1 gave it, so an existing stack's resources are not replaced", async () => {
    const dir = teamProject();
    const { recorder } = await declare({}, () => declareTwo(dir));
    const aliases = (name: string) => recorder.named(name).aliasNames;
    expect(aliases('shop-split-full-name')).toEqual(['split-full-name']);
    expect(aliases('shop-split-full-name-expand')).toEqual(['split-full-name-expand']);
    expect(aliases('shop-split-full-name-contract')).toEqual(['split-full-name-contract']);
    expect(aliases('orders-orders-total-cents-backfill')).toEqual(['orders-total-cents-backfill']);
    expect(aliases('shop-app')).toEqual(['shop']);
    for (const role of ['rollout', 'stable', 'canary', 'verify', 'app-db', 'verify-db', 'spec']) {
      expect(aliases(`shop-app-${role}`)).toEqual([`shop-${role}`]);
      expect(aliases(`orders-app-${role}`)).toEqual([`orders-${role}`]);
    }
    expect(aliases('shop-database')).toEqual([]);
  });

  it("unscoped: the 0.1 names and no aliases (Tandem's own program, one TandemMigration per stack)", async () => {
    const dir = teamProject();
    const { recorder } = await declare(
      {},
      () => new TandemMigration('tandem', baseArgs(dir, { childNames: 'unscoped', databaseUrlConfigKey: null })),
    );
    expect(Object.keys(commands(recorder)).sort()).toEqual([
      'split-full-name-backfill',
      'split-full-name-contract',
      'split-full-name-expand',
      'split-full-name-verify',
    ]);
    expect(recorder.named('shop-rollout').aliasNames).toEqual([]);
    expect(recorder.named('split-full-name-expand').aliasNames).toEqual([]);
  });
});

describe('roles managed elsewhere (manageRoles false), on a real PostgreSQL', () => {
  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const MIGRATOR = `tm_migrator_${suffix}`;
  let migratorUrl = '';

  beforeAll(async () => {
    const admin = await freshDatabase('tmroles');
    const dbName = decodeURIComponent(new URL(admin).pathname.slice(1));
    await sql(admin, `CREATE ROLE "${MIGRATOR}" LOGIN CREATEROLE; ALTER DATABASE "${dbName}" OWNER TO "${MIGRATOR}";`);
    const u = new URL(admin);
    u.username = MIGRATOR;
    migratorUrl = u.toString();
    await sql(migratorUrl, `CREATE TABLE customers (id serial PRIMARY KEY, full_name text)`);
    const plan = planAccess({
      schema: 'public',
      migratorRole: MIGRATOR,
      appRole: `tm_app_${suffix}`,
      verify: { role: `tm_verify_${suffix}`, table: 'customers' },
    });
    await withClient(migratorUrl, async (c) => {
      for (const st of renderAccessSql(plan, {})) await c.query(st);
    });
  });

  const rolesArgs = (dir: string, app: string) =>
    baseArgs(dir, {
      manageRoles: false,
      databaseUrl: pulumi.secret(migratorUrl),
      migratorRole: MIGRATOR,
      appRole: app,
      verifyRole: `tm_verify_${suffix}`,
      databaseUrlConfigKey: null,
    });

  it('roles as Tandem needs them: the check passes and the component declares its Commands and Rollout, no postgresql resource', async () => {
    const dir = teamProject();
    const { recorder, error } = await declare(
      {},
      () => new TandemMigration('shop', rolesArgs(dir, `tm_app_${suffix}`)),
    );
    expect(error).toBeUndefined();
    expect(recorder.ofType('command:local:Command')).toHaveLength(4);
    expect(rolloutOf(recorder)).toHaveLength(1);
    expect(recorder.all.filter((r) => r.type.includes('postgresql'))).toEqual([]);
  });

  it('an app role that does not exist: the program fails with a RoleCheckError naming it, and nothing of the component is declared', () => {
    const dir = teamProject();
    const r = runUnderMocks(
      dir,
      {},
      `{
      migrations: [{ spec: 'migrations/split-full-name.yaml', releases: ${JSON.stringify(releases('shop'))} }], stage: 'expand',
      manageRoles: false, databaseUrl: pulumi.secret(${JSON.stringify(migratorUrl)}), migratorRole: ${JSON.stringify(MIGRATOR)},
      appRole: 'tm_nobody_${suffix}', verifyRole: 'tm_verify_${suffix}', databaseUrlConfigKey: null,
      appDatabaseUrl: pulumi.secret(${JSON.stringify(APP_URL)}), verifyDatabaseUrl: pulumi.secret(${JSON.stringify(VERIFY_URL)}),
      appName: 'shop', verifyImage: 'ghcr.io/acme/tandem:0.1.0', projectDir: ${JSON.stringify(dir)} }`,
    );
    expect(r.error).toMatchObject({
      kind: 'role_check',
      problems: [expect.objectContaining({ kind: 'app', role: `tm_nobody_${suffix}`, code: 'missing' })],
    });
    expect(r.resources).toEqual([]);
  });

  it('checkRoles false: no check (the program checked them itself)', async () => {
    const dir = teamProject();
    const { recorder, error } = await declare(
      {},
      () => new TandemMigration('shop', { ...rolesArgs(dir, `tm_nobody_${suffix}`), checkRoles: false }),
    );
    expect(error).toBeUndefined();
    expect(recorder.ofType('command:local:Command')).toHaveLength(4);
  });
});

describe("the Commands' lines, run as pulumi-command runs them, on a real PostgreSQL", () => {
  it('with the executor options and the URL the component was given (no stack config, no pulumi CLI), expand and backfill run and change the table', async () => {
    const url = await freshDatabase('tmcmd');
    await sql(
      url,
      `CREATE TABLE customers (id serial PRIMARY KEY, full_name text); INSERT INTO customers (full_name) VALUES ('Ada Lovelace'), ('Alan Turing');`,
    );
    const dir = teamProject();
    const pauseFile = path.join(dir, 'pause');
    const { recorder } = await declare(
      {},
      () =>
        new TandemMigration(
          'shop',
          baseArgs(dir, {
            stage: 'dual-write',
            databaseUrl: pulumi.secret(url),
            migratorRole: new URL(url).username,
            executor: { lockTimeoutMs: 1500, holdTimeoutMs: 3000, batchSize: 1, maxLoad: 50, pauseFile },
          }),
        ),
    );
    const c = commands(recorder);
    for (const step of ['expand', 'backfill']) {
      const cmd = c[`shop-split-full-name-${step}`];
      const r = spawnSync('/bin/sh', ['-c', cmd.inputs.create], {
        cwd: dir,
        env: { PATH: path.dirname(process.execPath) + ':/usr/bin:/bin', ...cmd.inputs.environment },
        encoding: 'utf8',
      });
      expect({ step, status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({
        step,
        status: 0,
        stderr: '',
      });
    }
    expect(await sql(url, `SELECT first_name, last_name FROM customers ORDER BY id`)).toEqual([
      { first_name: 'Ada', last_name: 'Lovelace' },
      { first_name: 'Alan', last_name: 'Turing' },
    ]);
  });
});
