/**
 * Scenario 1 on the real engine under traffic: `tandem walk` moves a fresh file-backend stack
 * baseline -> expand -> dual-write -> cleanup -> contract, one walk (one `pulumi up`) per stage,
 * while the demo app's v1/v2/v3 data layers write at the weights the real Rollout's status shows
 * (the real Argo Rollouts controller running each canary, its AnalysisRun's verify Job run on the
 * host). Every acknowledged write goes into the ledger; between stages and at the end every read
 * and the whole table are compared with it: 0 failed and 0 lost or altered writes.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Pool } from 'pg';
import { createStore } from '../../app/versions';
import { Gates } from '../../automation/gates';
import { openLocalStack } from '../../automation/local-driver';
import { StackDriver } from '../../automation/stack-driver';
import { walk } from '../../automation/walk';
import { WalkEvent } from '../../automation/walk-events';
import { AppVersion, Stage } from '../../phases/deploy/stages';
import { loadSpecFile } from '../../executor/spec-file';
import { britishNames } from '../../rehearsal/british-names';
import { compareWrites, checkTable, Mismatch } from '../../rehearsal/consistency-check';
import { customersTableSql, seedCustomers } from '../../rehearsal/demo-database';
import { demoShapeOf } from '../../rehearsal/demo-shape';
import { TrafficGenerator, Weights } from '../../rehearsal/traffic';
import { WriteLedger } from '../../rehearsal/write-ledger';
import { grantAppRoles } from '../../test/app-roles';
import { freshDatabase, sql, withClient } from '../../test/db';
import { JobRunner } from '../job-runner';
import { KubeClient } from '../kube';
import { analysisRuns, createNamespace, kube, REPO, sleep, SPEC_PATH, verifyRunner } from './e2e-kit';
import { checkLedger, underCanary } from './traffic-kit';
import { configureWalkStack, demoRelease, urlAs, walkEnv, walkGates } from './walk-kit';

const NS = 'e2e-walk-traffic';
const APP = 'traffic';
const tag = `wt${process.pid}`;
const STACK = `traffic-${tag}`;
const migrator = `${tag}_migrator`;
const appRole = `${tag}_app`;
const verifyRole = `${tag}_verify`;
const shape = demoShapeOf(loadSpecFile(SPEC_PATH));

let k: KubeClient;
let runner: JobRunner;
let work: string;
let dbUrl: string;
let env: NodeJS.ProcessEnv;
let driver: StackDriver;
let admin: Pool;
const appPools: Pool[] = [];
let seeded: { id: string; name: string }[];
let traffic: TrafficGenerator | undefined;
const ledger = new WriteLedger();
const mismatches: Mismatch[] = [];

const as = (user: string, password: string) => urlAs(dbUrl, user, password);

function gates(d: StackDriver): Gates {
  return walkGates(k, d);
}

async function configure(): Promise<void> {
  await configureWalkStack({
    stackName: STACK,
    env,
    dbUrl,
    roles: { migrator, app: appRole, verify: verifyRole },
    app: APP,
    namespace: NS,
    migrations: [
      {
        spec: 'migrations/split-full-name.yaml',
        releases: { old: demoRelease('v1'), dual: demoRelease('v2'), new: demoRelease('v3') },
      },
    ],
  });
}

async function walkTo(to: Stage): Promise<WalkEvent[]> {
  const events: WalkEvent[] = [];
  await walk(driver, gates(driver), { to, yes: true, lockDir: work, projectDir: REPO, onEvent: (e) => events.push(e) });
  return events;
}

const stepsDone = (events: WalkEvent[]) => events.filter((e) => e.event === 'step-done').map((e) => (e as any).to);
const sidesChanged = (events: WalkEvent[]) =>
  (events.filter((e) => e.event === 'preview') as any[]).map(
    (p) => `${p.to}:${p.schema.length > 0 ? 'schema' : ''}${p.app.length > 0 ? 'app' : ''}`,
  );
const check = (label: string, newColumnsFilled: boolean, resume: Weights, stage: string) =>
  checkLedger({ admin, shape, ledger, traffic: traffic!, mismatches }, label, newColumnsFilled, resume, stage);
const canaryWalk = (stage: Stage, versions: { old: AppVersion; new: AppVersion }) =>
  underCanary(k, { app: APP, namespace: NS }, traffic!, stage, versions, () => walkTo(stage));

beforeAll(async () => {
  k = kube();
  await createNamespace(k, NS);
  runner = verifyRunner().runner;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-walk-traffic-'));
  fs.mkdirSync(path.join(work, 'state'));
  env = walkEnv(work);

  // The demo's customers table, owned by the migrator (roles made here: tandem:manageRoles false).
  dbUrl = await freshDatabase('e2e_wtraffic');
  const dbName = new URL(dbUrl).pathname.slice(1);
  await sql(
    dbUrl,
    `CREATE ROLE ${migrator} LOGIN PASSWORD 'migrator' CREATEROLE; ALTER DATABASE "${dbName}" OWNER TO ${migrator}`,
  );
  await withClient(as(migrator, 'migrator'), async (c) => {
    await c.query(customersTableSql('customers'));
    seeded = await seedCustomers(c, 1000, britishNames(7), 'customers');
  });
  await grantAppRoles(as(migrator, 'migrator'), migrator, [{ appRole, verifyRole, table: 'customers' }]);
  await sql(dbUrl, `ALTER ROLE ${appRole} PASSWORD 'app'; ALTER ROLE ${verifyRole} PASSWORD 'verify'`);
  admin = new Pool({ connectionString: dbUrl, max: 4 });
  admin.on('error', () => undefined);

  driver = await openLocalStack({ stackName: STACK, projectDir: REPO, env });
  await configure();
});

afterAll(async () => {
  if (traffic) await traffic.stop().catch(() => undefined);
  await runner?.stop();
  await Promise.all([admin, ...appPools].filter(Boolean).map((p) => p.end().catch(() => undefined)));
  for (const f of fs.readdirSync(REPO).filter((f) => f.startsWith(`Pulumi.${STACK}`)))
    fs.rmSync(path.join(REPO, f), { force: true });
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test("tandem walk, one stage at a time, baseline -> contract while v1/v2/v3 write at the Rollout's real weights: every canary Healthy after its AnalysisRun, 0 failed and 0 lost or altered writes", async () => {
  const store = (v: AppVersion) => {
    const p = new Pool({ connectionString: as(appRole, 'app'), max: 6 });
    p.on('error', () => undefined);
    appPools.push(p);
    return createStore(v, p);
  };
  for (const s of seeded)
    ledger.record({ id: s.id, version: 'v1', op: 'seed', columns: { full_name: s.name }, stage: 'baseline' });
  traffic = new TrafficGenerator({
    stores: { v1: store('v1'), v2: store('v2'), v3: store('v3') },
    ledger,
    names: britishNames(8),
    ids: seeded.map((s) => s.id),
    workers: 4,
    opsPerSecond: 100,
  });
  const sides: string[] = [];
  const steps: string[] = [];
  const note = (events: WalkEvent[]) => {
    steps.push(...stepsDone(events));
    sides.push(...sidesChanged(events));
    return events;
  };

  traffic.start('baseline', { v1: 100 });
  note(await walkTo('baseline'));
  await traffic.shift('expand', { v1: 100 });
  note(await walkTo('expand'));
  await check('after expand', true, { v1: 100 }, 'expand');

  const dual = await canaryWalk('dual-write', { old: 'v1', new: 'v2' });
  const dualRollouts = note(dual.result)
    .filter((e) => e.event === 'rollout')
    .map((e) => (e as any).ok);
  await check('after dual-write', true, { v2: 100 }, 'dual-write');

  const clean = await canaryWalk('cleanup', { old: 'v2', new: 'v3' });
  const cleanRollouts = note(clean.result)
    .filter((e) => e.event === 'rollout')
    .map((e) => (e as any).ok);
  await check('after cleanup', true, { v3: 100 }, 'cleanup');

  await traffic.shift('contract', { v3: 100 });
  note(await walkTo('contract'));
  await sleep(1000);
  await traffic.stop();
  mismatches.push(...(await compareWrites(admin, shape, traffic.takeReads(), () => 'read during contract')));
  mismatches.push(...(await checkTable(admin, shape, ledger, 'after contract', true)).mismatches);
  const phases = traffic.phases;
  traffic = undefined;
  // The writes of both versions while the canary stood between 0 and 100.
  const splitWrites = (stage: string, old: AppVersion, neu: AppVersion) =>
    phases
      .filter((p) => p.stage === stage && (p.weights[neu] ?? 0) > 0 && (p.weights[neu] ?? 0) < 100)
      .map(
        (p) =>
          `${old}=${p.weights[old]}:${(p.byVersion[old]?.writes ?? 0) > 0} ${neu}=${p.weights[neu]}:${(p.byVersion[neu]?.writes ?? 0) > 0}`,
      );

  const writes = ledger.acknowledged - seeded.length;
  process.stdout.write(
    `e2e walk under traffic: ${writes} acknowledged writes, ${ledger.failed} failed, ${mismatches.length} lost or altered; canary weights seen v2 ${dual.weights.join('/')}, v3 ${clean.weights.join('/')}\n`,
  );
  expect(steps).toEqual(['baseline', 'expand', 'dual-write', 'cleanup', 'contract']);
  expect(sides.filter((s) => !s.startsWith('baseline:'))).toEqual([
    'expand:schema',
    'dual-write:app',
    'cleanup:app',
    'contract:schema',
  ]);
  expect([dualRollouts, cleanRollouts]).toEqual([[true], [true]]);
  const runs = await analysisRuns(k, NS);
  expect(runs.length).toBeGreaterThanOrEqual(2);
  expect(runs.every((r) => r.status?.phase === 'Successful')).toBe(true);
  expect(dual.weights.some((w) => w > 0 && w < 100)).toBe(true);
  expect(clean.weights.some((w) => w > 0 && w < 100)).toBe(true);
  expect(splitWrites('dual-write', 'v1', 'v2')).toEqual(
    dual.weights.filter((w) => w > 0 && w < 100).map((w) => `v1=${100 - w}:true v2=${w}:true`),
  );
  expect(splitWrites('cleanup', 'v2', 'v3')).toEqual(
    clean.weights.filter((w) => w > 0 && w < 100).map((w) => `v2=${100 - w}:true v3=${w}:true`),
  );
  expect(writes).toBeGreaterThan(100);
  expect(ledger.failureSamples).toEqual([]);
  expect(ledger.failed).toBe(0);
  expect(mismatches).toEqual([]);
});
