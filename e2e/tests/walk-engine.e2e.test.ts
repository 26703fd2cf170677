/**
 * `tandem walk` on the real engine against the loopback control plane: the `pulumi` CLI v3.274.1,
 * the kubernetes provider 4.25.0 applying to the real API server, the real Argo Rollouts
 * controller running each canary (its AnalysisRun's verify Job run on the host by the job runner),
 * PostgreSQL 15, Tandem's own program run inline by the walker, the command provider's stand-in
 * (global setup installs it and says so), `tandem:manageRoles false` with the roles made here.
 *
 * One stack, in order: the first walk to expand, the walk back to baseline (the expand Command's
 * delete rolls back), the walk on to contract (one up per stage, each changing one side, the
 * canaries going Healthy after the real AnalysisRuns), contract -> cleanup refused, `walk --to
 * next` (the first migration's Commands retained); and a stack whose namespace is missing refused
 * before its first up.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Gates } from '../../automation/gates';
import { openLocalStack } from '../../automation/local-driver';
import { StackDriver } from '../../automation/stack-driver';
import { walk } from '../../automation/walk';
import { ClusterNotReadyError, RolloutNotSettledError } from '../../automation/walk-errors';
import { WalkEvent } from '../../automation/walk-events';
import { Stage } from '../../phases/deploy/stages';
import { UnsafeMoveBackError } from '../../phases/deploy/walk-path';
import { grantAppRoles } from '../../test/app-roles';
import { freshDatabase, sql, withClient } from '../../test/db';
import { JobRunner } from '../job-runner';
import { KubeClient } from '../kube';
import { analysisRuns, createNamespace, kube, REPO, verifyRunner } from './e2e-kit';
import { configureWalkStack, demoRelease, urlAs, walkEnv, walkGates } from './walk-kit';

const NS = 'e2e-walk';
const APP = 'walk';
const tag = `we${process.pid}`;
const STACK = `engine-${tag}`;
const migrator = `${tag}_migrator`;
const appRole = `${tag}_app`;
const verifyRole = `${tag}_verify`;

let k: KubeClient;
let runner: JobRunner;
let work: string;
let dbUrl: string;
let env: NodeJS.ProcessEnv;
let driver: StackDriver;

const as = (user: string, password: string) => urlAs(dbUrl, user, password);
const columns = async () =>
  (
    await sql(
      dbUrl,
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'customers' AND column_name NOT LIKE '\\_tandem%' ORDER BY ordinal_position`,
    )
  ).map((r) => r.column_name);

function gates(d: StackDriver): Gates {
  return walkGates(k, d);
}

async function configure(stackName: string, namespace: string): Promise<void> {
  await configureWalkStack({
    stackName,
    env,
    dbUrl,
    roles: { migrator, app: appRole, verify: verifyRole },
    app: APP,
    namespace,
    migrations: [
      {
        spec: 'migrations/split-full-name.yaml',
        releases: { old: demoRelease('v1'), dual: demoRelease('v2'), new: demoRelease('v3') },
      },
      { spec: 'migrations/merge-name.yaml', releases: { dual: demoRelease('v2'), new: demoRelease('v1') } },
    ],
  });
}

const stepsDone = (events: WalkEvent[]) => events.filter((e) => e.event === 'step-done').map((e) => (e as any).to);
const previews = (events: WalkEvent[]) => events.filter((e) => e.event === 'preview') as any[];
async function walkTo(to: Stage | 'next', d: StackDriver = driver): Promise<WalkEvent[]> {
  const events: WalkEvent[] = [];
  await walk(d, gates(d), { to, yes: true, lockDir: work, projectDir: REPO, onEvent: (e) => events.push(e) });
  return events;
}

beforeAll(async () => {
  k = kube();
  await createNamespace(k, NS);
  runner = verifyRunner().runner;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-walk-'));
  fs.mkdirSync(path.join(work, 'state'));
  env = walkEnv(work);

  dbUrl = await freshDatabase('e2e_walk');
  const dbName = new URL(dbUrl).pathname.slice(1);
  await sql(
    dbUrl,
    `CREATE ROLE ${migrator} LOGIN PASSWORD 'migrator' CREATEROLE; ALTER DATABASE "${dbName}" OWNER TO ${migrator}`,
  );
  await sql(
    as(migrator, 'migrator'),
    `CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, full_name text NOT NULL);
    INSERT INTO customers (full_name) SELECT 'Person ' || i || ' Number' || i FROM generate_series(1, 200) i;`,
  );
  await grantAppRoles(as(migrator, 'migrator'), migrator, [{ appRole, verifyRole, table: 'customers' }]);
  await sql(dbUrl, `ALTER ROLE ${appRole} PASSWORD 'app'; ALTER ROLE ${verifyRole} PASSWORD 'verify'`);

  driver = await openLocalStack({ stackName: STACK, projectDir: REPO, env });
  await configure(STACK, NS);
});

afterAll(async () => {
  await runner?.stop();
  for (const f of fs
    .readdirSync(REPO)
    .filter((f) => f.startsWith(`Pulumi.engine-${tag}`) || f.startsWith(`Pulumi.nons-${tag}`)))
    fs.rmSync(path.join(REPO, f), { force: true });
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('a stack whose namespace does not exist is refused before its first up, in one sentence', async () => {
  const name = `nons-${tag}`;
  const other = await openLocalStack({ stackName: name, projectDir: REPO, env });
  await configure(name, 'no-such-namespace');
  const err = await walkTo('baseline', other).catch((e) => e);
  expect(err).toBeInstanceOf(ClusterNotReadyError);
  expect(err.message).toContain('namespace no-such-namespace (tandem:namespace) does not exist');
  expect(await other.currentStage()).toBeNull();
});

test('first walk to expand: baseline creates the app (the walker waits for it Healthy), expand adds the columns', async () => {
  const events = await walkTo('expand');
  expect(stepsDone(events)).toEqual(['baseline', 'expand']);
  expect(events.filter((e) => e.event === 'rollout').map((e) => (e as any).ok)).toEqual([true]);
  expect(await columns()).toEqual(['id', 'full_name', 'first_name', 'last_name']);
});

test("walk back from expand to baseline runs the rollback through the expand Command's delete", async () => {
  expect(stepsDone(await walkTo('baseline'))).toEqual(['baseline']);
  expect(await columns()).toEqual(['id', 'full_name']);
});

test('walk on to contract: one up per stage, each changing one side, the canaries Healthy after the real AnalysisRuns', async () => {
  const events = await walkTo('contract');
  expect(stepsDone(events)).toEqual(['expand', 'dual-write', 'cleanup', 'contract']);
  for (const p of previews(events))
    expect([p.to, p.schema.length > 0, p.app.length > 0]).toEqual([
      p.to,
      !['dual-write', 'cleanup'].includes(p.to),
      ['dual-write', 'cleanup'].includes(p.to),
    ]);
  expect(events.filter((e) => e.event === 'rollout').map((e) => `${(e as any).to}:${(e as any).ok}`)).toEqual([
    'dual-write:true',
    'cleanup:true',
  ]);
  const runs = await analysisRuns(k, NS);
  expect(runs.map((r) => r.status?.phase)).toEqual(expect.arrayContaining(['Successful']));
  expect(runs.every((r) => r.status?.phase === 'Successful')).toBe(true);
  expect(runner.runs.filter((r) => r.namespace === NS && r.phase === 'Succeeded').length).toBeGreaterThanOrEqual(2);
  expect(await columns()).toEqual(['id', 'first_name', 'last_name']);
});

test('contract -> cleanup is refused', async () => {
  await expect(walkTo('cleanup')).rejects.toBeInstanceOf(UnsafeMoveBackError);
  expect(await driver.currentStage()).toBe('contract');
});

test("walk --to next: the first migration's Commands leave without their deletes; the app of the next baseline is the first's contract", async () => {
  const events = await walkTo('next');
  expect(stepsDone(events)).toEqual(['baseline']);
  expect(previews(events)[0].app).toEqual([]);
  expect(await driver.outputs()).toMatchObject({
    migration: 'merge-name',
    stage: 'baseline',
    image: 'registry.invalid/tandem-demo:v3',
  });
  expect(await columns()).toEqual(['id', 'first_name', 'last_name']);
});

test('a canary whose verify fails: the AnalysisRun fails, the Rollout aborts, the walker stops naming the stage to walk back to; the walk back (an app step while Degraded) does not block its up and gets it Healthy', async () => {
  expect(stepsDone(await walkTo('expand'))).toEqual(['expand']);
  // Once the walker's verify gate has passed, a session that bypasses the sync trigger (as only
  // the backfill may) changes a new-side value: the AnalysisRun's `tandem verify --for-app v2` fails.
  const tamper = async (value: string) =>
    withClient(as(migrator, 'migrator'), async (c) => {
      await c.query('SET tandem.backfill = on');
      await c.query(`UPDATE customers SET full_name = ${value} WHERE id = 1`);
    });
  let tampered: Promise<unknown> | undefined;
  const events: WalkEvent[] = [];
  const err = await walk(driver, gates(driver), {
    to: 'dual-write',
    yes: true,
    lockDir: work,
    projectDir: REPO,
    onEvent: (e) => {
      events.push(e);
      if (e.event === 'gate' && e.gate === 'verify' && e.ok) tampered = tamper(`'tampered'`);
    },
  }).catch((e) => e);
  await tampered;
  expect(err).toBeInstanceOf(RolloutNotSettledError);
  expect(err.message).toContain(`tandem walk --stack ${STACK} --to expand`);
  expect(await driver.currentStage()).toBe('dual-write');
  expect((await analysisRuns(k, NS)).some((r) => r.status?.phase === 'Failed')).toBe(true);
  // The row fixed; walking back is an app step taken while the Rollout is Degraded: its up returns (skipAwait), the walker waits.
  await tamper(`concat_ws(' ', first_name, last_name)`);
  const back = await walkTo('expand');
  expect(stepsDone(back)).toEqual(['expand']);
  expect(back.filter((e) => e.event === 'rollout').map((e) => (e as any).ok)).toEqual([true]);
});

test("an operator's `kubectl argo rollouts set image` (another field manager owns the image) does not stop the next app step: the stack's fields win (patchForce)", async () => {
  // What `kubectl argo rollouts set image` does: the image field taken over by another manager.
  const patch = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: APP, namespace: NS },
    spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.invalid/tandem-demo:operator' }] } } },
  };
  await k.request(
    'PATCH',
    `/apis/argoproj.io/v1alpha1/namespaces/${NS}/rollouts/${APP}?fieldManager=kubectl-argo-rollouts&force=true`,
    patch,
    'application/apply-patch+yaml',
  );
  const managed = await k.request<any>('GET', `/apis/argoproj.io/v1alpha1/namespaces/${NS}/rollouts/${APP}`);
  expect(managed.spec.template.spec.containers[0].image).toBe('registry.invalid/tandem-demo:operator');
  const events = await walkTo('dual-write');
  expect(stepsDone(events)).toEqual(['dual-write']);
  const after = await k.request<any>('GET', `/apis/argoproj.io/v1alpha1/namespaces/${NS}/rollouts/${APP}`);
  expect(after.spec.template.spec.containers[0].image).toBe('registry.invalid/tandem-demo:v2');
  expect(await columns()).toEqual(['id', 'first_name', 'last_name', 'full_name']);
});
