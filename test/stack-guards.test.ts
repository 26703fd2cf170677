/**
 * What the program refuses, or checks, before it declares anything, under the shared mocks:
 * - tandem:manageRoles false: no postgresql resource at all, and the DBA's roles checked on a real
 *   PostgreSQL first; a failed check is a RoleCheckError naming every problem, nothing declared.
 * - render mode for a stack whose previous update was live in a cluster (read from the stack's own
 *   `kubernetes` output): a RenderModeSwitchError, nothing declared but that read.
 * - kubernetes:enableServerSideApply false: a ConfigError (a pending create must be safe to redo).
 * - tandem:canarySteps as `pulumi config set` stores it: a string.
 */
import * as pulumi from '@pulumi/pulumi';
import { renderAccessSql } from '../phases/sql/access-sql';
import { planAccess } from '../phases/sql/access-plan';
import { RoleCheckError } from '../phases/sql/role-check';
import { ConfigError } from '../phases/deploy/config-error';
import { RenderModeSwitchError } from '../phases/deploy/kubernetes-target';
import { recordResources, ResourceRecorder, settled } from './mocks';
import { configureStack, runProgram, writeSpec } from './stack-run';
import { freshDatabase, sql, withClient } from './db';

/** The stacks the program read through a StackReference (a read goes to the mocks, not the recorder). */
let stackReads: string[] = [];

async function run(
  stage: string,
  overrides: Record<string, unknown>,
  previousOutputs?: Record<string, unknown>,
  extraConfig: Record<string, string> = {},
) {
  stackReads = [];
  const recorder: ResourceRecorder = await recordResources((args) => {
    if (args.type !== 'pulumi:pulumi:StackReference') return {};
    stackReads.push(args.inputs.name);
    return previousOutputs ? { outputs: previousOutputs } : {};
  });
  configureStack(stage, writeSpec(), overrides);
  for (const [k, v] of Object.entries(extraConfig)) pulumi.runtime.setConfig(k, v);
  let error: unknown;
  let outputs: Record<string, any> | undefined;
  try {
    outputs = await runProgram();
  } catch (err) {
    error = err;
  }
  await settled();
  return {
    error,
    outputs,
    recorder,
    declared: recorder.all.filter((r) => r.type !== 'pulumi:pulumi:StackReference').map((r) => r.name),
  };
}

describe('tandem:manageRoles false', () => {
  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const MIGRATOR = `tg_migrator_${suffix}`;
  let migratorUrl: string;
  const roleUrl = (role: string, host: string) => `postgres://${role}:pw@${host}:5432/shop`;

  beforeAll(async () => {
    const admin = await freshDatabase('guards');
    const dbName = decodeURIComponent(new URL(admin).pathname.slice(1));
    await sql(admin, `CREATE ROLE "${MIGRATOR}" LOGIN CREATEROLE; ALTER DATABASE "${dbName}" OWNER TO "${MIGRATOR}";`);
    const u = new URL(admin);
    u.username = MIGRATOR;
    migratorUrl = u.toString();
    await sql(migratorUrl, `CREATE TABLE customers (id serial PRIMARY KEY, full_name text)`);
    // The DBA's stack set up exactly Tandem's roles.
    const plan = planAccess({
      schema: 'public',
      migratorRole: MIGRATOR,
      appRole: `tg_app_${suffix}`,
      verify: { role: `tg_verify_${suffix}`, table: 'customers' },
    });
    await withClient(migratorUrl, async (c) => {
      for (const st of renderAccessSql(plan, {})) await c.query(st);
    });
  });

  const config = (app: string, verify: string) => ({
    manageRoles: false,
    databaseUrl: migratorUrl,
    migratorRole: MIGRATOR,
    appRole: app,
    verifyRole: verify,
    appDatabaseUrl: roleUrl(app, 'postgres.shop.svc'),
    verifyDatabaseUrl: roleUrl(verify, 'postgres.shop.svc'),
  });

  it.each(['baseline', 'contract'])(
    '%s: declares no postgresql resource and no provider; the Commands and the app as usual',
    async (stage) => {
      const { error, recorder, outputs } = await run(stage, config(`tg_app_${suffix}`, `tg_verify_${suffix}`));
      expect(error).toBeUndefined();
      expect(recorder.all.filter((r) => r.type.includes('postgresql')).map((r) => r.type)).toEqual([]);
      expect(recorder.all.filter((r) => r.type === 'tandem:database:DatabaseAccess')).toEqual([]);
      expect(recorder.ofType('command:local:Command')).toHaveLength(stage === 'contract' ? 4 : 0);
      expect(recorder.all.some((r) => r.type === 'kubernetes:argoproj.io/v1alpha1:Rollout')).toBe(true);
      expect(outputs).toMatchObject({ manageRoles: false });
    },
  );

  it('a role that is not as Tandem needs it: RoleCheckError naming it, nothing declared', async () => {
    const { error, declared } = await run('expand', config(`tg_nobody_${suffix}`, `tg_verify_${suffix}`));
    expect(error).toBeInstanceOf(RoleCheckError);
    expect((error as RoleCheckError).problems).toEqual([
      expect.objectContaining({ kind: 'app', role: `tg_nobody_${suffix}`, code: 'missing' }),
    ]);
    expect((error as Error).message).toContain(`app role "tg_nobody_${suffix}" does not exist`);
    expect(declared).toEqual([]);
  });

  it('with manageRoles true (the default) the same stack declares DatabaseAccess and checks nothing', async () => {
    const { error, recorder } = await run('baseline', {
      ...config(`tg_nobody_${suffix}`, `tg_verify_${suffix}`),
      manageRoles: undefined,
    });
    expect(error).toBeUndefined();
    expect(recorder.ofType('tandem:database:DatabaseAccess')).toHaveLength(1);
  });
});

describe('sslmode', () => {
  it('a migrator URL to another host without sslmode: ConfigError naming tandem:databaseUrl, nothing declared', async () => {
    const { error, declared } = await run('expand', {
      databaseUrl: 'postgres://tandem_migrator:pw@db.example.internal:5432/shop',
    });
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('tandem:databaseUrl');
    expect((error as Error).message).toContain('has no sslmode');
    expect(declared).toEqual([]);
  });
});

describe('the verify login', () => {
  it('tandem:verifyDatabaseUrl must log in as tandem:verifyRole: ConfigError naming both, nothing declared', async () => {
    const { error, declared } = await run('expand', {
      verifyDatabaseUrl: 'postgres://tandem_migrator:pw@postgres.shop.svc:5432/shop',
    });
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('tandem:verifyDatabaseUrl');
    expect((error as Error).message).toContain(
      'logs in as "tandem_migrator" but the role is configured as "tandem_verify"',
    );
    expect(declared).toEqual([]);
  });
});

describe('render mode', () => {
  it('turning it on for a stack whose app is live in a cluster: RenderModeSwitchError, nothing declared', async () => {
    const { error, declared } = await run(
      'dual-write',
      { renderYamlTo: 'rendered' },
      { kubernetes: 'cluster', stage: 'expand' },
    );
    expect(error).toBeInstanceOf(RenderModeSwitchError);
    expect((error as Error).message).toContain('stack organization/tandem/test runs its app in a cluster');
    expect(declared).toEqual([]);
  });

  it.each([
    ['never deployed', undefined, 'rendered', 'render'],
    ['already rendering', { kubernetes: 'render' }, 'rendered', 'render'],
    ['live, staying live', { kubernetes: 'cluster' }, undefined, 'cluster'],
    ['rendered, now applied to a cluster', { kubernetes: 'render' }, undefined, 'cluster'],
  ])(
    '%s: allowed, and the target is recorded in the kubernetes output',
    async (_label, previous, renderYamlTo, target) => {
      const { error, outputs } = await run('expand', renderYamlTo ? { renderYamlTo } : {}, previous);
      expect(error).toBeUndefined();
      expect(outputs!.kubernetes).toBe(target);
    },
  );

  it('reads the previous target from the stack itself, a read that changes nothing', async () => {
    const { recorder } = await run('expand', {});
    expect(stackReads).toEqual(['organization/tandem/test']);
    expect(recorder.ofType('pulumi:pulumi:StackReference')).toEqual([]);
  });
});

describe('kubernetes:enableServerSideApply', () => {
  it('false: ConfigError, since a pending create could not be redone', async () => {
    const { error, declared } = await run('expand', {}, undefined, { 'kubernetes:enableServerSideApply': 'false' });
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('kubernetes:enableServerSideApply');
    expect(declared).toEqual([]);
  });

  it('false is fine in render mode (its own provider, no cluster)', async () => {
    const { error } = await run('expand', { renderYamlTo: 'rendered' }, undefined, {
      'kubernetes:enableServerSideApply': 'false',
    });
    expect(error).toBeUndefined();
  });
});

describe('tandem:canarySteps as pulumi config set stores it', () => {
  const stepsOf = async (value: string) => {
    const { error, recorder } = await run('dual-write', { canarySteps: value });
    if (error) throw error;
    return recorder.ofType('kubernetes:argoproj.io/v1alpha1:Rollout')[0].inputs.spec.strategy.canary.steps;
  };

  it.each([
    ['a comma list', 'setWeight 20, pause 1m, analysis, setWeight 100'],
    ['a JSON list', '["setWeight 20", "pause 1m", "analysis", "setWeight 100"]'],
  ])('%s', async (_label, value) => {
    const steps = await stepsOf(value);
    expect(steps.map((s: any) => Object.keys(s)[0])).toEqual(['setWeight', 'pause', 'analysis', 'setWeight']);
    expect(steps[1]).toEqual({ pause: { duration: '1m' } });
  });

  it.each([
    ['setWeight 20,, analysis', 'empty step'],
    ['[not json', 'not a JSON list'],
    ['setWeight 20, pause 1m', 'no analysis step'],
  ])('%j is a ConfigError naming tandem:canarySteps (%s)', async (value, message) => {
    const err = await stepsOf(value).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(message);
  });
});
