/**
 * Scenario 2: a canary whose verify fails. The table passes the gate before dual-write, then a
 * session that bypasses the sync trigger (`SET tandem.backfill = on`, as only the backfill may)
 * changes a new-side column, so `tandem verify --for-app v2` fails when the AnalysisRun's Job runs
 * it. The real controller fails the AnalysisRun and aborts the Rollout; the walker's reader and
 * evaluateRollout call it aborted and the gate names the stage to walk back to. Fixing the row and
 * applying the previous stage's Rollout (the walk back) makes it Healthy again.
 */
import { Client } from 'pg';
import { backfill, expand, verify } from '../../executor';
import { CanaryStep } from '../../phases/deploy/canary-steps';
import { evaluateRollout } from '../../phases/deploy/rollout-health';
import { loadSpecFile } from '../../executor/spec-file';
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
  getRollout,
  kube,
  readRolloutInNode,
  SPEC_PATH,
  until,
  verifyRunner,
} from './e2e-kit';

const STEPS: CanaryStep[] = [{ setWeight: 50 }, { pause: { duration: '2s' } }, { analysis: {} }, { setWeight: 100 }];
const spec = loadSpecFile(SPEC_PATH);
const NS = 'e2e-abort';

let k: KubeClient;
let runner: JobRunner;
let db: DemoDatabase;
let side: AppSide;

beforeAll(async () => {
  k = kube();
  await createNamespace(k, NS);
  db = await demoDatabase('e2e_abort', 500);
  side = { app: 'shop', namespace: NS, steps: STEPS, verifyDatabaseUrl: db.url, appDatabaseUrl: db.appUrl };
  runner = verifyRunner().runner;
});

afterAll(async () => {
  await runner?.stop();
  await db?.close();
});

/** Change a row behind the sync trigger's back, as nothing but the backfill may. */
async function bypassTrigger(sql: string, values: unknown[]): Promise<void> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    await c.query(`SET tandem.backfill = on`);
    await c.query(sql, values);
  } finally {
    await c.end();
  }
}

test('a failing verify fails the AnalysisRun, the Rollout aborts, the walker says walk back to expand; the walk back gets it Healthy', async () => {
  const executor = { databaseUrl: db.url, lockTimeoutMs: 1000 };
  await applyStage(k, side, 'baseline');
  expect(
    await gatesFor(side, 'baseline', db.url).rolloutSettled({
      from: null,
      to: 'baseline',
      direction: 'forward',
    } as any),
  ).toMatchObject({ ok: true });
  await expand(spec, executor);
  await backfill(spec, executor);
  const gates = gatesFor(side, 'expand', db.url);
  const step = { from: 'expand', to: 'dual-write', direction: 'forward' } as any;
  expect(await gates.verify(step)).toMatchObject({ ok: true });

  // After the gate, before the canary's analysis step: one row's new side no longer matches full_name.
  const id = db.seeded[3].id;
  const before = (await db.admin.query('SELECT first_name FROM customers WHERE id = $1', [id])).rows[0].first_name;
  await bypassTrigger(`UPDATE customers SET first_name = 'Tampered' WHERE id = $1`, [id]);
  expect(await verify(spec, { ...executor, forApp: 'v2' })).toMatchObject({ ok: false });

  const applied = await applyStage(k, side, 'dual-write');
  const outcome = await gatesFor(side, 'dual-write', db.url).rolloutSettled(step);
  expect(outcome.ok).toBe(false);
  expect(outcome.detail).toMatch(/aborted|Degraded/);
  expect(outcome.next).toContain('--to expand');

  // The controller's own records: a Failed AnalysisRun, an aborted Rollout.
  const runs = await analysisRuns(k, NS);
  expect(runs.map((r) => r.status?.phase)).toContain('Failed');
  const ro = await getRollout(k, side);
  expect(String(ro.status.observedGeneration)).toBe(String(applied.metadata.generation));
  expect(ro.status.abort).toBe(true);
  const read = await readRolloutInNode('shop', NS);
  expect(evaluateRollout(read!)).toMatchObject({ verdict: 'degraded' });
  expect(evaluateRollout(read!).reason).toMatch(/aborted/);
  // The Job's pod really ran verify and exited non-zero with its JSON report.
  const failed = runner.runs.filter(
    (r) => r.phase === 'Failed' && r.containers[0].argv.join(' ').includes('--for-app v2'),
  );
  expect(failed.length).toBeGreaterThanOrEqual(1);
  expect(failed[0].containers[0].exitCode).not.toBe(0);
  expect(JSON.parse(failed[0].containers[0].output.trim().split('\n').pop()!)).toMatchObject({
    ok: false,
    forApp: 'v2',
  });
  process.stdout.write(`e2e abort: ${outcome.detail}\n  next: ${outcome.next}\n`);

  // Fix the row, walk back: the previous stage's Rollout (v1) is the stable one, so it is Healthy again.
  await bypassTrigger(`UPDATE customers SET first_name = $2 WHERE id = $1`, [id, before]);
  expect(await verify(spec, { ...executor, forApp: 'v2' })).toMatchObject({ ok: true });
  const back = await applyStage(k, side, 'expand');
  await until('the walked-back Rollout observed', 120_000, async () => {
    const r = await getRollout(k, side);
    return String(r.status?.observedGeneration) === String(back.metadata.generation) ? r : undefined;
  });
  const settled = await gatesFor(side, 'expand', db.url).rolloutSettled({
    from: 'dual-write',
    to: 'expand',
    direction: 'back',
  } as any);
  expect(settled).toMatchObject({ ok: true });
  const after = await readRolloutInNode('shop', NS);
  expect(evaluateRollout(after!)).toMatchObject({ verdict: 'healthy' });
  expect(after!.status?.abort).toBeFalsy();
});
