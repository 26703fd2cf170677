/**
 * A platform team's own Pulumi program (examples/team-program) with Tandem as an installed package,
 * on the real engine against the loopback cluster: the package packed, installed into a copy of the
 * example and compiled there, as the team has it. The DBA's roles (manageRoles: false, checked by
 * each TandemMigration before it declares anything), the team's config keys, executor options,
 * canary steps and pod templates (two containers, resources, probes, service accounts).
 *
 * The customers migration is on Tandem's keys: the installed `tandem walk` moves it from nothing
 * to contract (one up per stage, each changing one side, the canaries gated by the real Argo
 * Rollouts controller running Tandem's verify Job). The orders migration is on the team's own keys
 * (`checkout:ordersStage`), which the walker does not know: it moves as the guide says, the stage
 * key set and one `up` per stage, the test waiting for each canary as a pipeline would.
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { evaluateRollout, RolloutObject } from '../../phases/deploy/rollout-health';
import { grantAppRoles } from '../../test/app-roles';
import { freshDatabase, sql } from '../../test/db';
import { installPackedExample } from '../../test/packed-example';
import { JobRunner } from '../job-runner';
import { KubeClient } from '../kube';
import { analysisRuns, getRollout, kube, until, verifyRunner } from './e2e-kit';
import { urlAs, walkEnv } from './walk-kit';

const NS = 'checkout';
const STACK = 'dev';
const MIGRATOR = 'checkout_migrator';
const APPS = [
  { app: 'customers', table: 'customers', envName: 'CUSTOMERS_PG_URL', port: 8080 },
  { app: 'orders', table: 'orders', envName: 'ORDERS_DATABASE_URL', port: 9090 },
] as const;

let k: KubeClient;
let runner: JobRunner;
let scratch: string;
let dbUrl: string;
let env: NodeJS.ProcessEnv;

const as = (user: string, password: string) => urlAs(dbUrl, user, password);
const migratorUrl = () => as(MIGRATOR, 'migrator');
const pulumiBin = () => path.join(process.env.TANDEM_E2E_BIN!, 'pulumi');

const columns = async (table: string) =>
  (
    await sql(
      dbUrl,
      `SELECT column_name FROM information_schema.columns WHERE table_name = '${table}' AND column_name NOT LIKE '\\_tandem%' ORDER BY ordinal_position`,
    )
  ).map((r) => r.column_name);

/** The DBA's side: the migrator owns the database and both tables; each app's roles as Tandem needs them. */
async function checkoutDatabase(): Promise<string> {
  const url = await freshDatabase('e2e_checkout');
  const dbName = new URL(url).pathname.slice(1);
  await sql(
    url,
    `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${MIGRATOR}') THEN CREATE ROLE ${MIGRATOR} LOGIN CREATEROLE; END IF; END $$;
     ALTER ROLE ${MIGRATOR} PASSWORD 'migrator'; GRANT pg_monitor TO ${MIGRATOR}; ALTER DATABASE "${dbName}" OWNER TO ${MIGRATOR}`,
  );
  await sql(
    urlAs(url, MIGRATOR, 'migrator'),
    `CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, full_name text NOT NULL);
     INSERT INTO customers (full_name) SELECT 'Person' || i || ' Surname' || i FROM generate_series(1, 300) i;
     CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total numeric(12,2) NOT NULL);
     INSERT INTO orders (total) SELECT i + 0.25 FROM generate_series(1, 300) i;`,
  );
  await grantAppRoles(
    urlAs(url, MIGRATOR, 'migrator'),
    MIGRATOR,
    APPS.map(({ app, table }) => ({ appRole: `${app}_app`, verifyRole: `${app}_verify`, table })),
  );
  for (const { app } of APPS)
    await sql(url, `ALTER ROLE ${app}_app PASSWORD 'app'; ALTER ROLE ${app}_verify PASSWORD 'verify'`);
  return url;
}

/** `pulumi ...` in the team's project, as the team runs it. */
function pulumi(...args: string[]): string {
  return execFileSync(pulumiBin(), [...args, '--stack', STACK, '--non-interactive'], {
    cwd: scratch,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The team's stack: their Pulumi.dev.yaml as checked in, the secrets a pipeline sets, the e2e's canary and load limit. */
function configureStack(): void {
  execFileSync(pulumiBin(), ['stack', 'init', STACK, '--non-interactive'], { cwd: scratch, env, stdio: 'pipe' });
  const secrets: Record<string, string> = {
    'checkout:migratorUrl': migratorUrl(),
    'checkout:customersDbUrl': as('customers_app', 'app'),
    // The verify Jobs run on this host (job runner), so they reach the database as the test does.
    'checkout:customersVerifyUrl': as('customers_verify', 'verify'),
    'checkout:ordersDbUrl': as('orders_app', 'app'),
    'checkout:ordersVerifyUrl': as('orders_verify', 'verify'),
  };
  for (const [key, value] of Object.entries(secrets)) pulumi('config', 'set', '--secret', key, value);
  // A short canary for the test (the team's is minutes long); the analysis step is what matters.
  pulumi(
    'config',
    'set',
    'checkout:canarySteps',
    JSON.stringify(['setWeight 50', 'pause 2s', 'analysis', 'setWeight 100']),
  );
  // Active backends on this shared test server, not the team's production limit.
  pulumi('config', 'set', 'checkout:maxLoad', '500');
}

interface CliRun {
  readonly code: number | null;
  readonly lines: any[];
  readonly stderr: string;
}

/** The installed package's `tandem walk`, in the team's project, with --json. */
function tandemWalk(to: string): Promise<CliRun> {
  const cli = path.join(scratch, 'node_modules', 'tandem', 'bin', 'tandem.js');
  const args = [cli, 'walk', '--project', '.', '--stack', STACK, '--to', to, '--yes', '--json'];
  return runNode([...args, '--database-url', migratorUrl()]);
}

function runNode(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      resolve({ code, lines, stderr });
    });
  });
}

const stepsDone = (r: CliRun) => r.lines.filter((e) => e.event === 'step-done').map((e) => e.to);

/**
 * `pulumi config set checkout:ordersStage STAGE && pulumi up`: the engine runs the team's compiled
 * program inline (this machine has no nodejs language host), through the installed package's loader.
 */
const UP_SCRIPT = `
const { LocalWorkspace, PulumiCommand } = require('@pulumi/pulumi/automation');
const { loadProjectProgram } = require('tandem/dist/automation');
const [stackName, key, value, pulumiRoot] = process.argv.slice(2);
(async () => {
  process.env.PULUMI_NODEJS_ROOT_DIRECTORY = process.cwd();
  const { projectName, program } = loadProjectProgram(process.cwd());
  const pulumiCommand = await PulumiCommand.get({ root: pulumiRoot });
  const stack = await LocalWorkspace.selectStack({ stackName, projectName, program }, { workDir: process.cwd(), envVars: process.env, pulumiCommand });
  await stack.setConfig(key, { value });
  const r = await stack.up();
  process.stdout.write(JSON.stringify({ result: r.summary.result, changes: r.summary.resourceChanges }) + '\\n');
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

async function upOrders(stage: string): Promise<Record<string, number>> {
  const r = await runNode([
    'up-stage.js',
    STACK,
    'checkout:ordersStage',
    stage,
    path.dirname(process.env.TANDEM_E2E_BIN!),
  ]);
  if (r.code !== 0 || !r.lines.length) throw new Error(`up of orders at ${stage} failed: ${r.stderr}`);
  expect(r.lines[0].result).toBe('succeeded');
  return r.lines[0].changes;
}

/** What a pipeline does after an app step: wait for the Rollout to be fully promoted and Healthy. */
async function rolloutHealthy(app: string): Promise<any> {
  return until(`the ${app} Rollout Healthy`, 240_000, async () => {
    const ro = await getRollout(k, { app, namespace: NS });
    const health = evaluateRollout(ro as RolloutObject);
    if (health.verdict === 'degraded') throw new Error(`the ${app} Rollout is degraded: ${health.reason}`);
    if (health.verdict !== 'healthy') throw new Error(health.reason);
    return ro;
  });
}

beforeAll(async () => {
  k = kube();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-team-'));
  installPackedExample('team-program', scratch);
  fs.writeFileSync(path.join(scratch, 'up-stage.js'), UP_SCRIPT);
  fs.mkdirSync(path.join(scratch, 'state'));
  env = walkEnv(scratch);
  runner = verifyRunner(
    path.join(scratch, 'migrations'),
    path.join(scratch, 'node_modules', 'tandem', 'bin', 'tandem.js'),
  ).runner;
  dbUrl = await checkoutDatabase();
  configureStack();
}, 600_000);

afterAll(async () => {
  await runner?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

test("the installed `tandem walk` takes the team's program to expand: the first up creates their namespace, service accounts and both apps; the customers table gets its new columns", async () => {
  const r = await tandemWalk('expand');
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(stepsDone(r)).toEqual(['baseline', 'expand']);
  expect(r.lines.filter((e) => e.event === 'rollout').map((e) => e.ok)).toEqual([true]);
  expect(await columns('customers')).toEqual(['id', 'full_name', 'first_name', 'last_name']);
  expect(await columns('orders')).toEqual(['id', 'total']);
  for (const { app, envName, port } of APPS) {
    const ro = await rolloutHealthy(app);
    const spec = ro.spec.template.spec;
    expect(spec.serviceAccountName).toBe(app);
    expect(spec.containers.map((c: any) => c.name)).toEqual(['web', 'envoy']);
    const web = spec.containers[0];
    expect(web.image).toBe(app === 'customers' ? 'ghcr.io/acme/customers:2.3.0' : 'ghcr.io/acme/orders:7.0.1');
    expect(web.ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }]);
    expect(web.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } });
    expect(web.env.map((e: any) => e.name)).toEqual(expect.arrayContaining(['LOG_LEVEL', envName]));
    expect(web.env.find((e: any) => e.name === envName).valueFrom.secretKeyRef).toBeDefined();
    expect(ro.spec.strategy.canary.steps).toEqual([
      { setWeight: 50 },
      { pause: { duration: '2s' } },
      expect.objectContaining({ analysis: expect.anything() }),
      { setWeight: 100 },
    ]);
  }
});

test("the schema Commands carry the team's executor options and the migrator URL of their own key, as a secret", () => {
  const state = JSON.parse(pulumi('stack', 'export', '--show-secrets'));
  const commands = state.deployment.resources.filter((r: any) => r.type === 'command:local:Command');
  const expand = commands.find((c: any) => String(c.inputs.create).includes(' expand '));
  expect(expand).toBeDefined();
  for (const flag of ['--lock-timeout 2000', '--hold-timeout 5000'])
    expect(String(expand.inputs.create)).toContain(flag);
  const backfill = commands.find((c: any) => String(c.inputs.create).includes(' backfill '));
  for (const flag of [
    '--lock-timeout 2000',
    '--max-load 500',
    '--max-lag 2s',
    '--pause-file /var/run/checkout/pause-backfill',
  ])
    expect(String(backfill.inputs.create)).toContain(flag);
  // Secret in the state: marked as one, its value the team's migrator URL (shown here with --show-secrets).
  const secret = expand.inputs.environment.DATABASE_URL;
  expect(secret['4dabf18193072939515e22adb298388d']).toBe('1b47061264138c4ac30d75fd1eb44270');
  expect(JSON.parse(secret.plaintext)).toBe(migratorUrl());
  const raw = JSON.parse(pulumi('stack', 'export'));
  const sealed = raw.deployment.resources.find((r: any) => r.urn === expand.urn);
  expect(JSON.stringify(sealed.inputs.environment)).not.toContain('migrator@');
});

test('the walk on to contract: both app steps canaried through the real AnalysisRuns, a v1 write in between split by the trigger, the old column dropped', async () => {
  // v1, through the customers app's DML-only role, while the schema is expanded.
  await sql(as('customers_app', 'app'), `INSERT INTO customers (full_name) VALUES ('Ada Lovelace')`);
  const r = await tandemWalk('contract');
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(stepsDone(r)).toEqual(['dual-write', 'cleanup', 'contract']);
  expect(r.lines.filter((e) => e.event === 'rollout').map((e) => `${e.to}:${e.ok}`)).toEqual([
    'dual-write:true',
    'cleanup:true',
  ]);
  const runs = (await analysisRuns(k, NS)).filter((run) => run.metadata.name.startsWith('customers'));
  expect(runs.length).toBeGreaterThanOrEqual(2);
  expect(runs.every((run) => run.status?.phase === 'Successful')).toBe(true);
  expect(await columns('customers')).toEqual(['id', 'first_name', 'last_name']);
  const ada = await sql(dbUrl, `SELECT first_name, last_name FROM customers WHERE first_name = 'Ada'`);
  expect(ada).toEqual([{ first_name: 'Ada', last_name: 'Lovelace' }]);
  expect((await getRollout(k, { app: 'customers', namespace: NS })).spec.template.spec.containers[0].image).toBe(
    'ghcr.io/acme/customers:2.5.0',
  );
  // The orders app, on the team's own keys, was not touched by the walk.
  expect(await columns('orders')).toEqual(['id', 'total']);
  expect((await getRollout(k, { app: 'orders', namespace: NS })).spec.template.spec.containers[0].image).toBe(
    'ghcr.io/acme/orders:7.0.1',
  );
});

test("the orders migration on the team's own keys: one up per stage, each changing one side, total becomes total_cents", async () => {
  await upOrders('expand');
  expect(await columns('orders')).toEqual(['id', 'total', 'total_cents']);
  await sql(as('orders_app', 'app'), `INSERT INTO orders (total) VALUES (12.34)`);
  for (const [stage, image] of [
    ['dual-write', 'ghcr.io/acme/orders:7.1.0'],
    ['cleanup', 'ghcr.io/acme/orders:7.2.0'],
  ]) {
    await upOrders(stage);
    const ro = await rolloutHealthy('orders');
    expect(ro.spec.template.spec.containers[0].image).toBe(image);
  }
  await upOrders('contract');
  expect(await columns('orders')).toEqual(['id', 'total_cents']);
  const cents = await sql(dbUrl, `SELECT total_cents::text AS c FROM orders ORDER BY id`);
  expect(cents.slice(0, 2).map((r) => r.c)).toEqual(['125', '225']);
  expect(cents[cents.length - 1].c).toBe('1234');
  const runs = (await analysisRuns(k, NS)).filter((run) => run.metadata.name.startsWith('orders'));
  expect(runs.length).toBeGreaterThanOrEqual(2);
  expect(runs.every((run) => run.status?.phase === 'Successful')).toBe(true);
  // The customers migration stayed at contract through the orders ups.
  expect(await columns('customers')).toEqual(['id', 'first_name', 'last_name']);
});
