/**
 * Scenarios 3, 4, 5, 7 and 8 of the real engine against the loopback control plane (1 is
 * walk-traffic, 2 and 6 and the rest of 3 are walk-engine): `tandem walk` with the `pulumi` CLI,
 * the kubernetes provider 4.25.0 applying to the real API server, the real Argo Rollouts
 * controller, the command stand-in, PostgreSQL 15, `tandem:manageRoles false`. One stack and one
 * namespace for the whole file, in order: the first walk to expand; `tandem plan` on the real
 * preview of expand -> dual-write (5); a second walker refused (3); a second clone in another
 * directory walks back from expand and forward again (8); the walk back from expand runs the
 * rollback (3); the walker SIGKILLed mid-update, reported with its pending operation, `--recover`
 * moves the stack again (4); the walk to dual-write (a real canary) classified as the plan showed
 * (5); a rotated database password changes no Command (7).
 */
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';
import { openLocalStack } from '../../automation/local-driver';
import { plan, PlanResult } from '../../automation/plan';
import { StackDriver } from '../../automation/stack-driver';
import { walk } from '../../automation/walk';
import { StackBusyError } from '../../automation/walk-errors';
import { WalkEvent } from '../../automation/walk-events';
import { acquireWalkLock } from '../../automation/walk-lock';
import { Stage } from '../../phases/deploy/stages';
import { sql } from '../../test/db';
import { JobRunner } from '../job-runner';
import { KubeClient } from '../kube';
import { analysisRuns, createNamespace, kube, REPO, verifyRunner } from './e2e-kit';
import {
  configureWalkStack,
  demoRelease,
  makeWalkDatabase,
  urlAs,
  walkEnv,
  walkGates,
  workspaceStack,
} from './walk-kit';

const NS = 'e2e-walk-scenarios';
const APP = 'scenarios';
const tag = `ws${process.pid}`;
const STACK = `scenarios-${tag}`;
const roles = { migrator: `${tag}_migrator`, app: `${tag}_app`, verify: `${tag}_verify` };

let k: KubeClient;
let runner: JobRunner;
let work: string;
let dbUrl: string;
let env: NodeJS.ProcessEnv;
let driver: StackDriver;
let planned: PlanResult;

const columns = async () =>
  (
    await sql(
      dbUrl,
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'customers' AND column_name NOT LIKE '\\_tandem%' ORDER BY ordinal_position`,
    )
  ).map((r) => r.column_name);
const stepsDone = (events: WalkEvent[]) => events.filter((e) => e.event === 'step-done').map((e) => (e as any).to);
const previews = (events: WalkEvent[]) => events.filter((e) => e.event === 'preview') as any[];

async function walkTo(to: Stage, d: StackDriver = driver, projectDir: string = REPO): Promise<WalkEvent[]> {
  const events: WalkEvent[] = [];
  await walk(d, walkGates(k, d, projectDir), {
    to,
    yes: true,
    lockDir: work,
    projectDir,
    onEvent: (e) => events.push(e),
  });
  return events;
}

/** `tandem walk` as a user runs it: the compiled CLI in the project directory, KUBECONFIG the cluster's. */
const cliArgs = (...args: string[]) => [
  path.join(REPO, 'bin', 'tandem.js'),
  'walk',
  '--stack',
  STACK,
  '--project',
  REPO,
  '--yes',
  ...args,
];
const tandemWalk = (...args: string[]) =>
  spawnSync(process.execPath, cliArgs(...args), { cwd: REPO, env, encoding: 'utf8' });

/** The processes a killed walker leaves (the engine starts each plugin in a process group of its own): they carry `marker` in their environment. */
const processesMarked = (marker: string): number[] =>
  fs
    .readdirSync('/proc')
    .filter((d) => /^[0-9]+$/.test(d) && Number(d) !== process.pid)
    .filter((d) => {
      try {
        return fs.readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);

beforeAll(async () => {
  k = kube();
  await createNamespace(k, NS);
  runner = verifyRunner().runner;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-scenarios-'));
  fs.mkdirSync(path.join(work, 'state'));
  env = walkEnv(work);
  dbUrl = await makeWalkDatabase(
    'e2e_scen',
    roles,
    `CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, full_name text NOT NULL);
    INSERT INTO customers (full_name) VALUES ('Ada Lovelace'), ('Alan  Turing'), ('Cher');`,
  );
  driver = await openLocalStack({ stackName: STACK, projectDir: REPO, env });
  await configureWalkStack({
    stackName: STACK,
    env,
    dbUrl,
    roles,
    app: APP,
    namespace: NS,
    migrations: [
      {
        spec: 'migrations/split-full-name.yaml',
        releases: { old: demoRelease('v1'), dual: demoRelease('v2'), new: demoRelease('v3') },
      },
    ],
  });
});

afterAll(async () => {
  await runner?.stop();
  fs.rmSync(path.join(REPO, `Pulumi.${STACK}.yaml`), { force: true });
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('first walk to expand: baseline created on the cluster (Healthy), expand adds the columns', async () => {
  const events = await walkTo('expand');
  expect(stepsDone(events)).toEqual(['baseline', 'expand']);
  expect(events.filter((e) => e.event === 'rollout').map((e) => (e as any).ok)).toEqual([true]);
  expect(await columns()).toEqual(['id', 'full_name', 'first_name', 'last_name']);
});

test('scenario 5: tandem plan on the real preview (against the cluster): expand -> dual-write changes the app only, nothing applied', async () => {
  planned = await plan(driver, { to: 'dual-write', preview: true, lockDir: work, projectDir: REPO });
  expect(planned.steps.map((st) => `${st.from}->${st.to}`)).toEqual(['expand->dual-write']);
  expect(planned.steps[0].refused).toBeUndefined();
  expect(planned.steps[0].preview!.schema).toEqual([]);
  expect(planned.steps[0].preview!.app.length).toBeGreaterThan(0);
  expect(await driver.currentStage()).toBe('expand');
});

test('scenario 3: a second walker on the same stack is refused while the first holds it', async () => {
  const lock = acquireWalkLock(work, STACK);
  try {
    await expect(walkTo('baseline')).rejects.toBeInstanceOf(StackBusyError);
  } finally {
    lock.release();
  }
  expect(await driver.currentStage()).toBe('expand');
  expect(await columns()).toEqual(['id', 'full_name', 'first_name', 'last_name']);
});

test('scenario 8: a second clone in another directory walks the stack back from expand and forward again, changing only the expand Commands', async () => {
  const clone = path.join(work, 'second-clone');
  fs.mkdirSync(clone);
  execFileSync('sh', ['-c', `git -C '${REPO}' archive HEAD | tar -x -C '${clone}'`]);
  fs.cpSync(path.join(REPO, 'dist'), path.join(clone, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(REPO, `Pulumi.${STACK}.yaml`), path.join(clone, `Pulumi.${STACK}.yaml`));
  fs.symlinkSync(fs.realpathSync(path.join(REPO, 'node_modules')), path.join(clone, 'node_modules'));
  const moved = await openLocalStack({ stackName: STACK, projectDir: clone, env });
  const events = [...(await walkTo('baseline', moved, clone)), ...(await walkTo('expand', moved, clone))];
  expect(stepsDone(events)).toEqual(['baseline', 'expand']);
  for (const p of previews(events)) {
    expect(p.app).toEqual([]);
    expect(
      p.schema.filter(
        (u: string) => !/command:local:Command::split-full-name-(expand|backfill)$|pulumi:providers:command::/.test(u),
      ),
    ).toEqual([]);
  }
  expect(await columns()).toEqual(['id', 'full_name', 'first_name', 'last_name']);
  fs.copyFileSync(path.join(clone, `Pulumi.${STACK}.yaml`), path.join(REPO, `Pulumi.${STACK}.yaml`));
  expect(await driver.currentStage()).toBe('expand');
});

test("scenario 3: the walk back from expand to baseline runs the rollback (the expand Command's delete)", async () => {
  expect(stepsDone(await walkTo('baseline'))).toEqual(['baseline']);
  expect(await columns()).toEqual(['id', 'full_name']);
});

test('scenario 4: a walker SIGKILLed mid-update is reported with its pending operation; `walk --recover` moves the stack to expand', async () => {
  const marker = `TANDEM_E2E_WALKER=${tag}`;
  const blocker = new Client({ connectionString: dbUrl });
  await blocker.connect();
  try {
    // The test's session holds customers: expand's ALTER TABLE waits inside its Command's create.
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE customers IN ACCESS SHARE MODE');
    const walker = spawn(process.execPath, cliArgs('--to', 'expand'), {
      cwd: REPO,
      env: { ...env, TANDEM_E2E_WALKER: tag },
      detached: true,
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => walker.once('exit', resolve));
    const waiting = async () =>
      (
        await blocker.query(
          `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'customers'::regclass`,
        )
      ).rows[0].n > 0;
    while (!(await waiting())) {
      if (walker.exitCode !== null)
        throw new Error(`the walker exited (${walker.exitCode}) before its expand step reached the database`);
      await new Promise((r) => setTimeout(r, 200));
    }
    process.kill(-walker.pid!, 'SIGKILL');
    await exited;
    // A crash of the walker's machine takes the plugins and the running step with it.
    for (const pid of processesMarked(marker)) process.kill(pid, 'SIGKILL');
  } finally {
    await blocker.query('ROLLBACK').catch(() => undefined);
    await blocker.end();
  }
  expect(await columns()).toEqual(['id', 'full_name']);

  const refused = tandemWalk('--to', 'expand');
  expect(refused.status).toBe(1);
  expect(refused.stderr).toMatch(
    /operation\(s\) left pending by an interrupted update: urn:pulumi:[^ ]*command:local:Command::split-full-name-expand \(interrupted while creating\)/,
  );
  expect(refused.stderr).toContain('--recover');
  expect(await columns()).toEqual(['id', 'full_name']);

  const recovered = tandemWalk('--to', 'expand', '--recover');
  expect({ status: recovered.status, stderr: recovered.stderr }).toEqual({
    status: 0,
    stderr: expect.stringContaining('cleared 1 pending operation(s)'),
  });
  expect(await driver.currentStage()).toBe('expand');
  expect(await sql(dbUrl, 'SELECT first_name, last_name FROM customers ORDER BY id')).toEqual([
    { first_name: 'Ada', last_name: 'Lovelace' },
    { first_name: 'Alan', last_name: ' Turing' },
    { first_name: 'Cher', last_name: null },
  ]);
});

test('scenario 5: the walk to dual-write (a real canary, its AnalysisRun Successful) classified its step as tandem plan showed', async () => {
  const events = await walkTo('dual-write');
  expect(stepsDone(events)).toEqual(['dual-write']);
  const walked = previews(events).find((p) => p.to === 'dual-write');
  expect({ schema: walked.schema, app: walked.app, neutral: walked.neutral }).toEqual(planned.steps[0].preview);
  expect(events.filter((e) => e.event === 'rollout').map((e) => `${(e as any).to}:${(e as any).ok}`)).toEqual([
    'dual-write:true',
  ]);
  expect((await analysisRuns(k, NS)).map((r) => r.status?.phase)).toEqual(['Successful']);
});

test('scenario 7: a rotated database password (the config value changes) changes no Command: the next preview shows no change', async () => {
  await sql(dbUrl, `ALTER ROLE ${roles.migrator} PASSWORD 'rotated'`);
  await (
    await workspaceStack(STACK, env)
  ).setConfig('tandem:databaseUrl', { value: urlAs(dbUrl, roles.migrator, 'rotated'), secret: true });
  const { changes } = await driver.preview();
  // The program reads its own stack's previous outputs (a read every run); nothing else moves.
  expect(changes.filter((c) => c.op !== 'same' && c.op !== 'read')).toEqual([]);
  const commands = changes.filter((c) => c.type === 'command:local:Command');
  expect(commands.length).toBeGreaterThan(0);
  expect(commands.every((c) => c.op === 'same')).toBe(true);
});
