/**
 * Scenario 3: what the walker reads from a real cluster. While the real controller holds a canary
 * in a timed pause, the walker's rolloutSettled gate keeps waiting (evaluateRollout: progressing,
 * a timed pause) and returns Healthy once the controller has gone on by itself; a `pause: {}`
 * step is reported as paused for a human, with the promote command, and stays paused.
 */
import { backfill, expand } from '../../executor';
import { CanaryStep } from '../../phases/deploy/canary-steps';
import { evaluateRollout } from '../../phases/deploy/rollout-health';
import { loadSpecFile } from '../../executor/spec-file';
import { JobRunner } from '../job-runner';
import { KubeClient } from '../kube';
import {
  AppSide,
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

const spec = loadSpecFile(SPEC_PATH);
const NS = 'e2e-reads';
const TIMED: CanaryStep[] = [{ setWeight: 50 }, { pause: { duration: '15s' } }, { analysis: {} }, { setWeight: 100 }];
const HUMAN: CanaryStep[] = [{ setWeight: 50 }, { pause: {} }, { analysis: {} }, { setWeight: 100 }];

let k: KubeClient;
let runner: JobRunner;
let db: DemoDatabase;
let side: AppSide;

beforeAll(async () => {
  k = kube();
  await createNamespace(k, NS);
  db = await demoDatabase('e2e_reads', 200);
  side = { app: 'shop', namespace: NS, steps: TIMED, verifyDatabaseUrl: db.url, appDatabaseUrl: db.appUrl };
  runner = verifyRunner().runner;
  const executor = { databaseUrl: db.url, lockTimeoutMs: 1000 };
  await applyStage(k, side, 'baseline');
  await expand(spec, executor);
  await backfill(spec, executor);
  expect(
    await gatesFor(side, 'expand', db.url).rolloutHealthy({
      from: 'expand',
      to: 'dual-write',
      direction: 'forward',
    } as any),
  ).toMatchObject({ ok: true });
});

afterAll(async () => {
  await runner?.stop();
  await db?.close();
});

test('the Rollout gate waits through a timed pause and does not call it a pause to promote', async () => {
  const applied = await applyStage(k, side, 'dual-write');
  // The controller has reached the timed pause: that is what the walker reads now.
  await until('the controller in the timed pause', 120_000, async () => {
    const ro = await getRollout(k, side);
    const inPause =
      String(ro.status?.observedGeneration) === String(applied.metadata.generation) &&
      (ro.status?.pauseConditions ?? []).some((p: any) => p.reason === 'CanaryPauseStep');
    return inPause ? ro : undefined;
  });
  const during = evaluateRollout((await readRolloutInNode('shop', NS))!);
  const progress: string[] = [];
  const outcome = await gatesFor(side, 'dual-write', db.url, (t) => progress.push(t)).rolloutSettled({
    from: 'expand',
    to: 'dual-write',
    direction: 'forward',
  } as any);
  // Read in the pause (or just after it, on a slow machine): never a pause for a human to end.
  expect(during.verdict).not.toBe('paused');
  expect(during.verdict).not.toBe('degraded');
  expect(outcome).toMatchObject({ ok: true });
  expect(outcome.detail).toMatch(/Healthy and fully promoted/);
  expect(progress.some((p) => /timed pause \(15s\)/.test(p))).toBe(true);
  expect(
    runner.runs.some((r) => r.phase === 'Succeeded' && r.containers[0].argv.join(' ').includes('--for-app v2')),
  ).toBe(true);
});

test('a pause: {} step is reported as paused for a human, with the promote command, and stays paused', async () => {
  const human: AppSide = { ...side, steps: HUMAN };
  const applied = await applyStage(k, human, 'cleanup');
  const outcome = await gatesFor(human, 'cleanup', db.url).rolloutSettled({
    from: 'dual-write',
    to: 'cleanup',
    direction: 'forward',
  } as any);
  expect(outcome.ok).toBe(false);
  expect(outcome.detail).toMatch(/paused/);
  expect(outcome.next).toContain(`kubectl argo rollouts promote shop -n ${NS}`);
  const ro = await readRolloutInNode('shop', NS);
  expect(String(ro!.metadata?.generation ?? applied.metadata.generation)).toBe(String(applied.metadata.generation));
  expect(evaluateRollout(ro!)).toMatchObject({ verdict: 'paused' });
  expect(ro!.status?.pauseConditions?.map((p) => p.reason)).toContain('CanaryPauseStep');
  expect(ro!.status?.currentStepIndex).toBe(1);
  // No analysis ran for v3: the canary never got past the pause.
  expect(runner.runs.some((r) => r.containers[0].argv.join(' ').includes('--for-app v3'))).toBe(false);
});
