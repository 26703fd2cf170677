/**
 * Tandem as a package in a platform team's own program (examples/team-program): `npm pack` this
 * project, install the tarball into a scratch copy of the example (the rest from the npm cache),
 * compile it with its own TypeScript, and run it under Pulumi's mocks in a child process, the way
 * the language host runs it (the project's directory named to the program). The example brings
 * its own pod templates (two containers, resources, probes, a service account), roles a DBA
 * manages (checked on the test PostgreSQL), its own config keys and executor options, and two
 * migrations of two tables for two apps in one program. (npm test builds dist/ first; the tarball
 * packs it without building again.)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { grantAppRoles } from './app-roles';
import { freshDatabase, sql } from './db';
import { installPackedExample } from './packed-example';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-team-program-'));
const MIGRATOR = 'checkout_migrator';

/** Runs the compiled example under mocks; prints what it registered and exported, or the error that failed it. */
const RUNNER = `
// The language host names the project's directory (the one of Pulumi.yaml) to the program.
process.env.PULUMI_NODEJS_ROOT_DIRECTORY = process.cwd();
const pulumi = require('@pulumi/pulumi');
const overrides = JSON.parse(process.argv[2]);
const resources = [];
// Secrets as their values (the mocks hand a secret's enclosing object over wrapped).
const SIG = '4dabf18193072939515e22adb298388d';
const unwrap = (v) => Array.isArray(v) ? v.map(unwrap) : v && typeof v === 'object' ? (v[SIG] ? unwrap(v.value) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]))) : v;
pulumi.runtime.setMocks({
  newResource(a) { resources.push({ type: a.type, name: a.name, inputs: unwrap(a.inputs) }); return { id: a.custom === false ? undefined : a.name + '-id', state: a.inputs }; },
  call() { return {}; },
}, 'checkout', 'dev', false, 'acme');
const yaml = require('yaml');
const cfg = yaml.parse(require('fs').readFileSync('Pulumi.dev.yaml', 'utf8')).config;
const raw = {};
for (const [k, v] of Object.entries({ ...cfg, ...overrides })) raw[k] = typeof v === 'string' ? v : JSON.stringify(v);
pulumi.runtime.setAllConfig(raw, Object.keys(raw).filter((k) => /Url$/.test(k)));
process.on('unhandledRejection', (e) => {
  process.stdout.write(JSON.stringify({ error: { ...e, kind: e && e.kind, message: String(e && e.message) }, resources }));
  process.exit(0);
});
const program = require('./bin/index.js');
(async () => {
  await pulumi.runtime.waitForRPCs();
  const outputs = {};
  for (const [k, v] of Object.entries(program)) outputs[k] = pulumi.Output.isInstance(v) ? await new Promise((r) => v.apply(r)) : v;
  await pulumi.runtime.waitForRPCs();
  process.stdout.write(JSON.stringify({ resources, outputs }));
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

interface Run {
  readonly resources: { type: string; name: string; inputs: any }[];
  readonly outputs?: Record<string, any>;
  readonly error?: any;
}

function run(overrides: Record<string, unknown>): Run {
  const r = spawnSync(process.execPath, ['run-under-mocks.js', JSON.stringify(overrides)], {
    cwd: scratch,
    encoding: 'utf8',
    timeout: 60_000,
  });
  // (Pulumi's exit hook reports registrations a failure left pending, with a nonzero status.)
  if (!r.stdout.startsWith('{')) throw new Error(`the example failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const asRole = (url: string, role: string) => {
  const u = new URL(url);
  u.username = role;
  u.password = '';
  return u.toString();
};

/** A database with the two apps' tables, owned by the migrator. */
async function checkoutDatabase(prefix: string): Promise<string> {
  const admin = await freshDatabase(prefix);
  const dbName = decodeURIComponent(new URL(admin).pathname.slice(1));
  await sql(admin, `ALTER DATABASE "${dbName}" OWNER TO ${MIGRATOR}`);
  const migrator = asRole(admin, MIGRATOR);
  await sql(
    migrator,
    `CREATE TABLE customers (id serial PRIMARY KEY, full_name text); CREATE TABLE orders (id serial PRIMARY KEY, total numeric(12,2))`,
  );
  return migrator;
}

let migratorUrl = '';
/** The same tables, but the DBA never granted the apps' roles anything here. */
let ungrantedUrl = '';

/** The secrets the pipeline sets (the team's own keys); the app URLs only name the roles. */
const secrets = (migrator: string) => ({
  'checkout:migratorUrl': migrator,
  'checkout:customersDbUrl': 'postgres://customers_app:a@postgres.checkout.svc:5432/checkout',
  'checkout:customersVerifyUrl': 'postgres://customers_verify:v@postgres.checkout.svc:5432/checkout',
  'checkout:ordersDbUrl': 'postgres://orders_app:a@postgres.checkout.svc:5432/checkout',
  'checkout:ordersVerifyUrl': 'postgres://orders_verify:v@postgres.checkout.svc:5432/checkout',
});

beforeAll(async () => {
  // The DBA's side: the migrator, and each app's roles as Tandem needs them (set up outside the program).
  const admin = await freshDatabase('checkout_admin');
  await sql(
    admin,
    `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${MIGRATOR}') THEN CREATE ROLE ${MIGRATOR} LOGIN CREATEROLE; END IF; END $$`,
  );
  migratorUrl = await checkoutDatabase('checkout');
  ungrantedUrl = await checkoutDatabase('checkout_ungranted');
  await grantAppRoles(migratorUrl, MIGRATOR, [
    { appRole: 'customers_app', verifyRole: 'customers_verify', table: 'customers' },
    { appRole: 'orders_app', verifyRole: 'orders_verify', table: 'orders' },
  ]);

  installPackedExample('team-program', scratch, { extraDependencies: { yaml: '^2.8.0' } });
  fs.writeFileSync(path.join(scratch, 'run-under-mocks.js'), RUNNER);
}, 300_000);

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('the packed package, used by examples/team-program', () => {
  let declared: Run;
  beforeAll(() => {
    declared = run({ ...secrets(migratorUrl), 'tandem:stage': 'contract', 'checkout:ordersStage': 'dual-write' });
  });

  it('installs from the tarball (not this checkout) and the program runs to its outputs', () => {
    expect(fs.lstatSync(path.join(scratch, 'node_modules', 'tandem')).isSymbolicLink()).toBe(false);
    expect(declared.error).toBeUndefined();
    expect(declared.outputs).toMatchObject({
      customersStage: 'contract',
      customersImage: 'ghcr.io/acme/customers:2.5.0',
      ordersStage: 'dual-write',
      ordersImage: 'ghcr.io/acme/orders:7.1.0',
    });
  });

  it.each([
    ['customers', 'ghcr.io/acme/customers:2.5.0', 'CUSTOMERS_PG_URL', 8080],
    ['orders', 'ghcr.io/acme/orders:7.1.0', 'ORDERS_DATABASE_URL', 9090],
  ])(
    "the %s Rollout's pod template is the team's (two containers, resources, probe, service account) plus Tandem's image and database env var",
    (app, image, envName, port) => {
      const rollout = declared.resources.find(
        (r) => r.type === 'kubernetes:argoproj.io/v1alpha1:Rollout' && r.inputs.metadata.name === app,
      )!;
      expect(rollout.name).toBe(`${app}-app-rollout`);
      const spec = rollout.inputs.spec.template.spec;
      expect(spec.serviceAccountName).toBe(app);
      expect(spec.containers).toEqual([
        {
          name: 'web',
          image,
          ports: [{ name: 'http', containerPort: port }],
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: envName, valueFrom: { secretKeyRef: { name: `${app}-db`, key: 'DATABASE_URL' } } },
          ],
          resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
          readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 },
        },
        {
          name: 'envoy',
          image: 'envoyproxy/envoy:v1.31.0',
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
        },
      ]);
      expect(rollout.inputs.spec.replicas).toBe(4);
      // The team's canary steps (checkout:canarySteps), the analysis step running Tandem's verify.
      const steps = rollout.inputs.spec.strategy.canary.steps;
      expect(steps.map((s: any) => Object.keys(s)[0])).toEqual([
        'setWeight',
        'pause',
        'analysis',
        'setWeight',
        'pause',
        'setWeight',
      ]);
      expect(steps[0]).toEqual({ setWeight: 25 });
      expect(steps[1]).toEqual({ pause: { duration: '1m' } });
      expect(
        declared.resources.some(
          (r) => r.type === 'kubernetes:core/v1:ServiceAccount' && r.inputs.metadata.name === app,
        ),
      ).toBe(true);
    },
  );

  it("the Commands of both migrations carry the team's executor options and run with the migrator URL of its own config key", () => {
    const commands = Object.fromEntries(
      declared.resources.filter((r) => r.type === 'command:local:Command').map((c) => [c.name, c.inputs]),
    );
    expect(Object.keys(commands).sort()).toEqual([
      'customers-split-full-name-backfill',
      'customers-split-full-name-contract',
      'customers-split-full-name-expand',
      'customers-split-full-name-verify',
      'orders-orders-total-cents-backfill',
      'orders-orders-total-cents-expand',
    ]);
    const cli = 'node node_modules/tandem/bin/tandem.js';
    expect(commands['customers-split-full-name-expand'].create).toBe(
      `${cli} expand migrations/split-full-name.yaml --lock-timeout 2000 --hold-timeout 5000 >/dev/null`,
    );
    expect(commands['customers-split-full-name-expand'].delete).toBe(
      `${cli} rollback migrations/split-full-name.yaml --lock-timeout 2000 --hold-timeout 5000 >/dev/null`,
    );
    expect(commands['orders-orders-total-cents-backfill'].create).toBe(
      `${cli} backfill migrations/orders-total-cents.yaml --lock-timeout 2000 --max-lag 2s --max-load 40 --pause-file /var/run/checkout/pause-backfill >/dev/null`,
    );
    expect(commands['customers-split-full-name-verify'].create).toBe(
      `${cli} verify migrations/split-full-name.yaml >/dev/null`,
    );
    for (const c of Object.values(commands))
      expect(c.environment).toEqual({ TANDEM_SPEC_SHA256: expect.any(String), DATABASE_URL: migratorUrl });
  });

  it("the roles are the DBA's: no postgresql resource is declared, and the role check runs: where the roles lack their grants the program fails naming them, with nothing of either migration declared", () => {
    expect(declared.resources.filter((r) => r.type.includes('postgresql'))).toEqual([]);
    const refused = run({ ...secrets(ungrantedUrl), 'tandem:stage': 'expand', 'checkout:ordersStage': 'expand' });
    expect(refused.error).toMatchObject({ kind: 'role_check' });
    const roles = refused.error.problems.map((p: any) => p.role);
    expect(roles.length).toBeGreaterThan(0);
    expect(
      roles.every((r: string) => ['customers_app', 'customers_verify', 'orders_app', 'orders_verify'].includes(r)),
    ).toBe(true);
    expect(refused.error.message).toMatch(
      /^the database roles are not ready for Tandem: app role "(customers|orders)_app" lacks SELECT, INSERT, UPDATE, DELETE on public\.(customers|orders)/,
    );
    expect(
      refused.resources.filter(
        (r) =>
          r.type.startsWith('tandem:') ||
          r.type === 'command:local:Command' ||
          r.type.startsWith('kubernetes:argoproj.io'),
      ),
    ).toEqual([]);
  });
});
