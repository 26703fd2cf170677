/**
 * Scenario 1: the stage sequence on one table, with the real Argo Rollouts controller.
 * expand + backfill (executor library), dual-write's v2 Rollout (the controller runs the canary
 * steps, its AnalysisRun's Job really runs `tandem verify --for-app v2`), cleanup's v3 Rollout,
 * then contract; meanwhile the demo app's v1/v2/v3 data layers write at the weights the Rollout
 * status shows. 0 failed and 0 lost writes; the walker's gates and evaluateRollout judge the
 * status the controller writes.
 */
import { backfill, contract, expand, verify } from '../../executor';
import { CanaryStep } from '../../phases/deploy/canary-steps';
import { evaluateRollout } from '../../phases/deploy/rollout-health';
import { loadSpecFile } from '../../executor/spec-file';
import { AppVersion, Stage } from '../../phases/deploy/stages';
import { britishNames } from '../../rehearsal/british-names';
import { checkTable, compareWrites, Mismatch } from '../../rehearsal/consistency-check';
import { demoShapeOf } from '../../rehearsal/demo-shape';
import { TrafficGenerator, Weights } from '../../rehearsal/traffic';
import { WriteLedger } from '../../rehearsal/write-ledger';
import { JobRunner } from '../job-runner';
import { KubeClient } from '../kube';
import {
  AppSide,
  analysisRuns,
  applyStage,
  createNamespace,
  DemoDatabase,
  demoDatabase,
  gatesFor,
  kube,
  readRolloutInNode,
  SPEC_PATH,
  sleep,
  verifyRunner,
} from './e2e-kit';
import { checkLedger, underCanary } from './traffic-kit';

const STEPS: CanaryStep[] = [{ setWeight: 50 }, { pause: { duration: '2s' } }, { analysis: {} }, { setWeight: 100 }];
const spec = loadSpecFile(SPEC_PATH);
const shape = demoShapeOf(spec);

let k: KubeClient;
let runner: JobRunner;
let db: DemoDatabase;
let traffic: TrafficGenerator | undefined;
let side: AppSide;
const ledger = new WriteLedger();
const mismatches: Mismatch[] = [];

beforeAll(async () => {
  k = kube();
  await createNamespace(k, 'e2e-stages');
  db = await demoDatabase('e2e_stages');
  side = { app: 'shop', namespace: 'e2e-stages', steps: STEPS, verifyDatabaseUrl: db.url, appDatabaseUrl: db.appUrl };
  runner = verifyRunner().runner;
});

afterAll(async () => {
  if (traffic) await traffic.stop().catch(() => undefined);
  await runner?.stop();
  await db?.close();
});

const ledgerCheck = () => ({ admin: db.admin, shape, ledger, traffic: traffic!, mismatches });
const check = (label: string, newColumnsFilled: boolean, resume: Weights, stage: string) =>
  checkLedger(ledgerCheck(), label, newColumnsFilled, resume, stage);

/**
 * Apply a stage's Rollout and play traffic at the weights its status shows (old version gets the
 * rest) until the walker's rolloutSettled gate returns. Returns the gate's outcome and the weights seen.
 */
async function canary(
  stage: Stage,
  from: Stage,
  oldV: AppVersion,
  newV: AppVersion,
): Promise<{ ok: boolean; detail: string; weights: number[] }> {
  const { result, weights } = await underCanary(k, side, traffic!, stage, { old: oldV, new: newV }, async () => {
    await applyStage(k, side, stage);
    return gatesFor(side, stage, db.url).rolloutSettled({ from, to: stage, direction: 'forward' } as any);
  });
  return { ...result, weights };
}

test('baseline -> expand -> dual-write -> cleanup -> contract under traffic: every canary Healthy, verify run by the AnalysisRun, 0 failed and 0 lost writes', async () => {
  const executor = { databaseUrl: db.url, lockTimeoutMs: 1000 };
  for (const s of db.seeded)
    ledger.record({ id: s.id, version: 'v1', op: 'seed', columns: { full_name: s.name }, stage: 'baseline' });
  traffic = new TrafficGenerator({
    stores: db.stores,
    ledger,
    names: britishNames(8),
    ids: db.seeded.map((s) => s.id),
    workers: 4,
    opsPerSecond: 100,
  });

  // baseline: v1's Rollout; its first revision is promoted without steps.
  traffic.start('baseline', { v1: 100 });
  await applyStage(k, side, 'baseline');
  const base = await gatesFor(side, 'baseline', db.url).rolloutSettled({
    from: null,
    to: 'baseline',
    direction: 'forward',
  } as any);
  expect(base).toMatchObject({ ok: true });

  // expand (schema step) + backfill, while v1 writes.
  await traffic.shift('expand', { v1: 100 });
  await expand(spec, executor);
  await backfill(spec, { ...executor, batchSize: 500 });
  await check('after backfill', true, { v1: 100 }, 'expand');
  const gatesExpand = gatesFor(side, 'expand', db.url);
  expect(await gatesExpand.verify({ from: 'expand', to: 'dual-write', direction: 'forward' } as any)).toMatchObject({
    ok: true,
  });
  expect(
    await gatesExpand.rolloutHealthy({ from: 'expand', to: 'dual-write', direction: 'forward' } as any),
  ).toMatchObject({ ok: true });

  // dual-write: the v2 canary, analysed by the real verify.
  const dual = await canary('dual-write', 'expand', 'v1', 'v2');
  expect(dual).toMatchObject({ ok: true });
  expect(dual.detail).toMatch(/Healthy and fully promoted/);
  expect(dual.weights).toContain(50);
  const v2runs = runner.runs.filter((r) =>
    r.containers.some((c) => c.argv.includes('verify') && c.argv.join(' ').includes('--for-app v2')),
  );
  expect(v2runs.length).toBeGreaterThanOrEqual(1);
  expect(v2runs.every((r) => r.phase === 'Succeeded' && r.containers[0].exitCode === 0)).toBe(true);
  expect(JSON.parse(v2runs[0].containers[0].output.trim().split('\n').pop()!)).toMatchObject({
    ok: true,
    forApp: 'v2',
  });
  const runs2 = await analysisRuns(k, side.namespace);
  expect(runs2.map((r) => r.status?.phase)).toEqual(expect.arrayContaining(['Successful']));
  expect(evaluateRollout((await readRolloutInNode('shop', side.namespace))!)).toMatchObject({ verdict: 'healthy' });
  await check('after dual-write', true, { v2: 100 }, 'dual-write');

  // cleanup: the v3 canary.
  expect(
    await gatesFor(side, 'dual-write', db.url).rolloutHealthy({
      from: 'dual-write',
      to: 'cleanup',
      direction: 'forward',
    } as any),
  ).toMatchObject({ ok: true });
  const clean = await canary('cleanup', 'dual-write', 'v2', 'v3');
  expect(clean).toMatchObject({ ok: true });
  expect(clean.weights).toContain(50);
  expect(
    runner.runs.some((r) => r.phase === 'Succeeded' && r.containers[0].argv.join(' ').includes('--for-app v3')),
  ).toBe(true);
  await check('after cleanup', true, { v3: 100 }, 'cleanup');

  // contract: the gates the walker asks first, then the executor's contract while v3 writes.
  const gatesCleanup = gatesFor(side, 'cleanup', db.url);
  expect(
    await gatesCleanup.rolloutHealthy({ from: 'cleanup', to: 'contract', direction: 'forward' } as any),
  ).toMatchObject({ ok: true });
  expect(await gatesCleanup.verify({ from: 'cleanup', to: 'contract', direction: 'forward' } as any)).toMatchObject({
    ok: true,
  });
  await traffic.shift('contract', { v3: 100 });
  await contract(spec, executor);
  expect(await verify(spec, { ...executor, forApp: 'v3' })).toMatchObject({ ok: true });
  await sleep(1000);
  await traffic.stop();
  mismatches.push(...(await compareWrites(db.admin, shape, traffic.takeReads(), () => 'read during contract')));
  mismatches.push(...(await checkTable(db.admin, shape, ledger, 'after contract', true)).mismatches);
  traffic = undefined;

  const writes = ledger.acknowledged - db.seeded.length;
  process.stdout.write(
    `e2e stages: ${writes} acknowledged writes, ${ledger.failed} failed, ${mismatches.length} lost or altered; canary weights seen v2 ${dual.weights.join('/')}, v3 ${clean.weights.join('/')}\n`,
  );
  expect(writes).toBeGreaterThan(100);
  expect(ledger.failureSamples).toEqual([]);
  expect(ledger.failed).toBe(0);
  expect(mismatches).toEqual([]);
});
