import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createGates } from '../automation/gates';
import { backfill, contract, expand } from '../executor';
import { walk } from '../automation/walk';
import { SchemaContractedError } from '../automation/walk-errors';
import { loadSpecFile } from '../executor/spec-file';
import { RolloutObject } from '../phases/deploy/rollout-health';
import { walkPath } from '../phases/deploy/walk-path';
import { freshDatabase, sql } from './db';
import { FakeStackDriver } from './fake-stack-driver';
import * as rollouts from './rollout-health-fixtures';
import { SPLIT_SPEC_PATH } from './fixtures';

const SPEC = fs.readFileSync(SPLIT_SPEC_PATH, 'utf8');

const toDualWrite = walkPath('expand', 'dual-write')[0];
const toCleanup = walkPath('dual-write', 'cleanup')[0];
const toContract = walkPath('cleanup', 'contract')[0];

describe('verify gate, against the test PostgreSQL', () => {
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-gates-'));
    fs.mkdirSync(path.join(dir, 'migrations'));
    fs.writeFileSync(path.join(dir, 'migrations', 'split.yaml'), SPEC);
    url = await freshDatabase('gates');
    await sql(
      url,
      `CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, full_name text NOT NULL);
                    INSERT INTO customers (full_name) SELECT 'Person ' || g FROM generate_series(1, 50) g;`,
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // The stack names the spec relative to the project directory, and the database in its config.
  const gatesFor = (extra: Record<string, string> = {}) =>
    createGates({
      driver: new FakeStackDriver({
        stage: 'expand',
        config: { 'tandem:spec': 'migrations/split.yaml', 'tandem:databaseUrl': url, ...extra },
      }),
      projectDir: dir,
      env: {},
    });

  it('fails before dual-write while rows are not backfilled, saying to finish the backfill', async () => {
    const spec = loadSpecFile(path.join(dir, 'migrations', 'split.yaml'));
    await expand(spec, { databaseUrl: url });
    const outcome = await gatesFor().verify(toDualWrite);
    expect(outcome.ok).toBe(false);
    expect(outcome.next).toContain(`tandem backfill ${path.join(dir, 'migrations', 'split.yaml')}`);
  });

  it('passes once the backfill is done', async () => {
    const spec = loadSpecFile(path.join(dir, 'migrations', 'split.yaml'));
    await backfill(spec, { databaseUrl: url });
    const outcome = await gatesFor().verify(toDualWrite);
    expect(outcome).toMatchObject({ ok: true });
  });

  it('fails before contract when a row is inconsistent, and says not to contract', async () => {
    await sql(
      url,
      `ALTER TABLE customers DISABLE TRIGGER USER; UPDATE customers SET last_name = 'Wrong' WHERE id = 7; ALTER TABLE customers ENABLE TRIGGER USER;`,
    );
    const outcome = await gatesFor().verify(toContract);
    expect(outcome.ok).toBe(false);
    expect(outcome.next).toMatch(/^Do not contract/);
  });

  it("without tandem:spec it uses the program's default spec path, and a missing file is bad input (exit 2)", async () => {
    const gates = createGates({
      driver: new FakeStackDriver({ stage: 'expand', config: { 'tandem:databaseUrl': url } }),
      projectDir: dir,
      env: {},
    });
    await expect(gates.verify(toDualWrite)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining(path.join(dir, 'migrations', 'split-full-name.yaml')),
    });
  });

  it('refuses with a usage error when no database is configured anywhere', async () => {
    const gates = createGates({
      driver: new FakeStackDriver({ stage: 'expand', config: { 'tandem:spec': 'migrations/split.yaml' } }),
      projectDir: dir,
      env: {},
    });
    await expect(gates.verify(toDualWrite)).rejects.toMatchObject({ exitCode: 2 });
  });
});

describe('the schema-step check before a walk back, against the test PostgreSQL', () => {
  let dir: string;
  let url: string;
  const specFile = () => path.join(dir, 'migrations', 'split.yaml');
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-gates-back-'));
    fs.mkdirSync(path.join(dir, 'migrations'));
    fs.writeFileSync(specFile(), SPEC);
    url = await freshDatabase('gates_back');
    await sql(
      url,
      `CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, full_name text NOT NULL);
                    INSERT INTO customers (full_name) SELECT 'Person ' || g FROM generate_series(1, 20) g;`,
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A stack whose Pulumi history says cleanup; the Rollout reads Healthy, so only the database can stop a walk back. */
  const stackAtCleanup = () => {
    const driver = new FakeStackDriver({
      stage: 'cleanup',
      config: { 'tandem:spec': 'migrations/split.yaml', 'tandem:databaseUrl': url },
    });
    return {
      driver,
      gates: createGates({
        driver,
        projectDir: dir,
        env: {},
        waitSeconds: 0,
        readRollout: async () => rollouts.healthy,
      }),
    };
  };

  it('reads what the executor recorded: not started, then backfilled', async () => {
    expect(await stackAtCleanup().gates.schemaStep()).toMatchObject({ step: 'not_started' });
    await expand(loadSpecFile(specFile()), { databaseUrl: url });
    await backfill(loadSpecFile(specFile()), { databaseUrl: url });
    expect(await stackAtCleanup().gates.schemaStep()).toEqual({
      step: 'backfilled',
      detail: expect.stringMatching(/^split-full-name on public\.customers is backfilled: /),
    });
  });

  it('lets a walk back through while the old columns are there', async () => {
    const { driver, gates } = stackAtCleanup();
    await walk(driver, gates, { to: 'dual-write', yes: true });
    expect(driver.ups).toEqual(['dual-write']);
  });

  it('refuses a walk back once the database is contracted, though Pulumi still says cleanup', async () => {
    await contract(loadSpecFile(specFile()), { databaseUrl: url });
    const { driver, gates } = stackAtCleanup();
    const err = await walk(driver, gates, { to: 'dual-write', yes: true }).catch((e) => e);
    expect(err).toBeInstanceOf(SchemaContractedError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(
      /^cannot walk back from cleanup to dual-write: the database says split-full-name on public\.customers is contracted/,
    );
    expect(driver.ups).toEqual([]);
  });

  it('without a database anywhere, a walk back is bad input (exit 2), not a guess', async () => {
    const driver = new FakeStackDriver({ stage: 'cleanup', config: { 'tandem:spec': 'migrations/split.yaml' } });
    const err = await walk(driver, createGates({ driver, projectDir: dir, env: {} }), {
      to: 'dual-write',
      yes: true,
    }).catch((e) => e);
    expect(err).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('the schema check before a move back needs the database'),
    });
    expect(driver.ups).toEqual([]);
  });
});

describe('rollout gate, against Rollout objects as Argo Rollouts v1.9 writes them', () => {
  /** A reader that returns the given objects in turn (the last one repeats); records what it read. */
  function sequence(...objects: (RolloutObject | undefined)[]) {
    const reads: string[] = [];
    let i = 0;
    const read = async (name: string, namespace: string) => {
      reads.push(`${namespace}/${name}`);
      return objects[Math.min(i++, objects.length - 1)];
    };
    return { reads, read };
  }
  /** A clock that only moves when the gate sleeps: no real waiting, no timed assertions. */
  function clock() {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => void (t += ms) };
  }
  const gates = (
    read: (n: string, ns: string) => Promise<RolloutObject | undefined>,
    opts: { waitSeconds?: number; config?: Record<string, string>; outputs?: Record<string, unknown> } = {},
  ) => {
    const c = clock();
    const progress: string[] = [];
    const g = createGates({
      driver: new FakeStackDriver({ stage: 'dual-write', config: opts.config, outputs: opts.outputs }),
      projectDir: '/nonexistent',
      readRollout: read,
      waitSeconds: opts.waitSeconds ?? 60,
      pollSeconds: 5,
      now: c.now,
      sleep: c.sleep,
      onProgress: (t) => progress.push(t),
    });
    return { g, progress };
  };

  it('passes a Healthy, fully promoted Rollout named by the stack outputs', async () => {
    const { reads, read } = sequence(rollouts.healthy);
    const outcome = await gates(read, { outputs: { rolloutName: 'shop', namespace: 'prod' } }).g.rolloutHealthy(
      toCleanup,
    );
    expect(outcome.ok).toBe(true);
    expect(reads).toEqual(['prod/shop']);
  });

  it("reads the program's nested rollout output too", async () => {
    const { reads, read } = sequence(rollouts.healthy);
    await gates(read, {
      outputs: { stage: 'dual-write', rollout: { name: 'tandem-demo', namespace: 'tandem-demo' } },
    }).g.rolloutHealthy(toCleanup);
    expect(reads).toEqual(['tandem-demo/tandem-demo']);
  });

  it('falls back to tandem:appName / tandem:namespace config, then the defaults', async () => {
    const a = sequence(rollouts.healthy);
    await gates(a.read, { config: { 'tandem:appName': 'orders', 'tandem:namespace': 'shop' } }).g.rolloutHealthy(
      toCleanup,
    );
    const b = sequence(rollouts.healthy);
    await gates(b.read).g.rolloutHealthy(toCleanup);
    expect([...a.reads, ...b.reads]).toEqual(['shop/orders', 'default/tandem-demo']);
  });

  it('waits through a stale generation and Progressing until Healthy', async () => {
    const { reads, read } = sequence(rollouts.staleGeneration, rollouts.progressing, rollouts.healthy);
    const { g, progress } = gates(read);
    expect((await g.rolloutHealthy(toCleanup)).ok).toBe(true);
    expect(reads).toHaveLength(3);
    expect(progress[0]).toContain('has not observed the latest spec');
  });

  it('gives up on a rollout still Progressing when the wait is over', async () => {
    const { reads, read } = sequence(rollouts.progressing);
    const outcome = await gates(read, { waitSeconds: 12 }).g.rolloutHealthy(toCleanup);
    expect(outcome).toMatchObject({
      ok: false,
      next: expect.stringContaining('kubectl argo rollouts get rollout tandem-demo -n default --watch'),
    });
    expect(reads).toHaveLength(4); // at 0, 5, 10 and 15 s
  });

  it('waits through a timed pause step, and never says to promote it, even when the wait runs out', async () => {
    const { reads, read } = sequence(rollouts.timedPause);
    const { g, progress } = gates(read, { waitSeconds: 10 });
    const outcome = await g.rolloutHealthy(toContract);
    expect(outcome).toMatchObject({ ok: false, next: expect.stringMatching(/^Wait for the canary to finish/) });
    expect(outcome.next).not.toContain('rollouts promote');
    expect(progress[0]).toContain('timed pause (30s)');
    expect(reads).toHaveLength(3);
  });

  it('stops at once on a paused canary, saying how to promote it', async () => {
    const { reads, read } = sequence(rollouts.paused, rollouts.healthy);
    const outcome = await gates(read).g.rolloutHealthy(toContract);
    expect(outcome).toMatchObject({
      ok: false,
      next: expect.stringContaining('kubectl argo rollouts promote tandem-demo -n default'),
    });
    expect(reads).toHaveLength(1);
  });

  it.each([
    ['aborted', rollouts.degraded, 'expand'],
    ['Degraded (progress deadline)', rollouts.timedOut, 'expand'],
  ])('stops at once on a %s rollout, naming the stage to walk back to', async (_name, rollout, back) => {
    const { reads, read } = sequence(rollout, rollouts.healthy);
    const outcome = await gates(read).g.rolloutHealthy(toCleanup);
    expect(outcome.ok).toBe(false);
    expect(outcome.next).toContain(`tandem walk --stack dev --to ${back}`);
    expect(reads).toHaveLength(1);
  });

  it('before contract, a Degraded v3 says to walk back to dual-write', async () => {
    const outcome = await gates(sequence(rollouts.degraded).read).g.rolloutHealthy(toContract);
    expect(outcome.next).toContain('tandem walk --stack dev --to dual-write');
  });

  it('fails when the Rollout does not exist, or the cluster cannot be read', async () => {
    expect(await gates(sequence(undefined).read).g.rolloutHealthy(toCleanup)).toMatchObject({
      ok: false,
      detail: 'Rollout default/tandem-demo does not exist in the current kube context',
    });
    // A team's program names its Rollout in the stack output `rollout`: the advice says so.
    expect((await gates(sequence(undefined).read).g.rolloutHealthy(toCleanup)).next).toContain(
      'the stack output `rollout: { name, namespace }`',
    );
    const broken = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:6443\nstack...');
    };
    expect(await gates(broken).g.rolloutHealthy(toCleanup)).toMatchObject({
      ok: false,
      detail: 'cannot read Rollout default/tandem-demo (connect ECONNREFUSED 127.0.0.1:6443)',
    });
  });
});
