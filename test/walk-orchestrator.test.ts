import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GateOutcome, Gates, createGates } from '../automation/gates';
import { plan } from '../automation/plan';
import { walk, WalkOptions } from '../automation/walk';
import {
  ClusterNotReadyError,
  GateFailedError,
  PendingOperationsError,
  RolloutNotSettledError,
  SchemaContractedError,
  StackBusyError,
} from '../automation/walk-errors';
import { MigrationProgress } from '../executor/types';
import { WalkEvent } from '../automation/walk-events';
import { acquireWalkLock, walkLockPath } from '../automation/walk-lock';
import { RefusedError } from '../phases/errors';
import { PreviewRefusedError } from '../phases/deploy/preview-check';
import { RolloutObject } from '../phases/deploy/rollout-health';
import { Stage } from '../phases/deploy/stages';
import { UnsafeMoveBackError, walkPath, WalkMove } from '../phases/deploy/walk-path';
import { APP_CHANGE, FakeStackDriver, SCHEMA_CHANGE } from './fake-stack-driver';
import * as rollouts from './rollout-health-fixtures';

class FakeGates implements Gates {
  readonly calls: string[] = [];
  constructor(
    private readonly outcomes: {
      verify?: GateOutcome;
      rolloutHealthy?: GateOutcome;
      rolloutSettled?: GateOutcome;
      schemaStep?: MigrationProgress;
    } = {},
  ) {}
  async verify(step: WalkMove) {
    this.calls.push(`verify ${step.to}`);
    return this.outcomes.verify ?? { ok: true, detail: 'every row consistent' };
  }
  async rolloutHealthy(step: WalkMove) {
    this.calls.push(`rollout-healthy ${step.to}`);
    return this.outcomes.rolloutHealthy ?? { ok: true, detail: 'Healthy' };
  }
  async rolloutSettled(step: WalkMove) {
    this.calls.push(`rollout-settled ${step.to}`);
    return this.outcomes.rolloutSettled ?? { ok: true, detail: 'Healthy' };
  }
  async schemaStep() {
    this.calls.push('schema-step');
    const step = this.outcomes.schemaStep ?? 'backfilled';
    return { step, detail: `split-full-name on public.customers is ${step}` };
  }
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the walk to be refused, but it finished');
}

const run = (driver: FakeStackDriver, gates: Gates, to: Stage, extra: Partial<WalkOptions> = {}) => {
  const events: WalkEvent[] = [];
  const done = walk(driver, gates, { to, yes: true, onEvent: (e) => events.push(e), ...extra });
  return { events, done };
};

describe('walk: every move, one up per stage, gates before the steps that need them', () => {
  it.each<[Stage | null, Stage, string[], string[]]>([
    ['baseline', 'expand', ['expand'], []],
    ['expand', 'dual-write', ['dual-write'], ['verify dual-write', 'rollout-settled dual-write']],
    ['dual-write', 'cleanup', ['cleanup'], ['rollout-healthy cleanup', 'rollout-settled cleanup']],
    ['cleanup', 'contract', ['contract'], ['rollout-healthy contract', 'verify contract']],
    [
      'baseline',
      'contract',
      ['expand', 'dual-write', 'cleanup', 'contract'],
      [
        'verify dual-write',
        'rollout-settled dual-write',
        'rollout-healthy cleanup',
        'rollout-settled cleanup',
        'rollout-healthy contract',
        'verify contract',
      ],
    ],
    ['expand', 'baseline', ['baseline'], ['schema-step']],
    ['dual-write', 'expand', ['expand'], ['schema-step', 'rollout-settled expand']],
    ['cleanup', 'dual-write', ['dual-write'], ['schema-step', 'rollout-settled dual-write']],
    [
      'cleanup',
      'baseline',
      ['dual-write', 'expand', 'baseline'],
      ['schema-step', 'rollout-settled dual-write', 'rollout-settled expand'],
    ],
    // The first deployment creates the Rollout; the up does not wait for it (skipAwait), the walker does.
    [null, 'baseline', ['baseline'], ['rollout-settled baseline']],
    [null, 'expand', ['baseline', 'expand'], ['rollout-settled baseline']],
  ])('%s -> %s', async (from, to, ups, gateCalls) => {
    const driver = new FakeStackDriver({ stage: from });
    const gates = new FakeGates();
    const { events, done } = run(driver, gates, to);
    const result = await done;
    expect(driver.ups).toEqual(ups);
    expect(driver.deployed).toBe(to);
    expect(gates.calls).toEqual(gateCalls);
    expect(result.steps.map((s) => s.to)).toEqual(ups);
    // Each up runs with the plan its own preview saved (the fake throws otherwise), right after it.
    const sequence = driver.calls
      .filter((c) => /^(setStage|preview|up) /.test(c))
      .map((c) => c.split(' ').slice(0, 2).join(' '));
    expect(sequence).toEqual(ups.flatMap((s) => [`setStage ${s}`, `preview ${s}`, `up ${s}`]));
    expect(events.filter((e) => e.event === 'step-done')).toHaveLength(ups.length);
    expect(events[events.length - 1]).toMatchObject({ event: 'done', stage: to, steps: ups.length });
  });

  it.each<Stage>(['baseline', 'dual-write', 'contract'])(
    'already at %s: nothing to do, nothing previewed or applied',
    async (stage) => {
      const driver = new FakeStackDriver({ stage });
      const { events, done } = run(driver, new FakeGates(), stage);
      expect((await done).steps).toEqual([]);
      expect(driver.calls).toEqual(['pendingOperations', 'currentStage']);
      expect(events).toEqual([{ event: 'nothing-to-do', stack: 'dev', stage }]);
    },
  );

  it.each<Stage>(['cleanup', 'expand', 'baseline'])(
    'walking back from contract to %s is refused before anything runs',
    async (to) => {
      const driver = new FakeStackDriver({ stage: 'contract' });
      const err = await rejection(run(driver, new FakeGates(), to).done);
      expect(err).toBeInstanceOf(UnsafeMoveBackError);
      expect(err.message).toContain('contract dropped the old columns');
      expect(driver.ups).toEqual([]);
      expect(driver.calls.some((c) => c.startsWith('setStage') || c.startsWith('preview'))).toBe(false);
    },
  );
});

describe('walk back: the database has the last word on whether the migration is contracted', () => {
  it.each<[Stage, Stage]>([
    ['cleanup', 'dual-write'],
    ['cleanup', 'baseline'],
    ['dual-write', 'expand'],
    ['expand', 'baseline'],
  ])('%s -> %s is refused whole, before anything runs, when the database says contracted', async (from, to) => {
    const driver = new FakeStackDriver({ stage: from });
    const gates = new FakeGates({ schemaStep: 'contracted' });
    const { events, done } = run(driver, gates, to);
    const err = await rejection(done);
    expect(err).toBeInstanceOf(SchemaContractedError);
    expect(err).toBeInstanceOf(UnsafeMoveBackError);
    expect(err).toMatchObject({ exitCode: 1, from, to: walkPath(from, to)[0].to, stack: 'dev' });
    expect(err.message).toBe(
      `cannot walk back from ${from} to ${walkPath(from, to)[0].to}: the database says split-full-name on public.customers is contracted, though the stack's last update is at ${from}; ` +
        'the old columns are gone, so no older app version can run. Bring the stack in line by walking forward with `tandem walk --stack dev --to contract`',
    );
    expect(gates.calls).toEqual(['schema-step']);
    expect(driver.calls.filter((c) => !['pendingOperations', 'currentStage'].includes(c))).toEqual([]);
    expect(events).toEqual([
      { event: 'schema-step', step: 'contracted', detail: 'split-full-name on public.customers is contracted' },
    ]);
  });

  it.each<MigrationProgress>(['not_started', 'expanded', 'backfilling', 'backfilled', 'rolled_back'])(
    'goes back when the database says %s',
    async (step) => {
      const driver = new FakeStackDriver({ stage: 'dual-write' });
      const gates = new FakeGates({ schemaStep: step });
      await run(driver, gates, 'expand').done;
      expect(driver.ups).toEqual(['expand']);
      expect(gates.calls[0]).toBe('schema-step');
    },
  );

  it('a walk forward does not ask', async () => {
    const gates = new FakeGates({ schemaStep: 'contracted' });
    await run(new FakeStackDriver({ stage: 'baseline' }), gates, 'expand').done;
    expect(gates.calls).toEqual([]);
  });
});

describe('walk: hard rule 1 on each preview, nothing applied when refused', () => {
  it('refuses a step whose preview changes both sides, restores the stage config, applies nothing', async () => {
    const driver = new FakeStackDriver({ stage: 'baseline', previews: { expand: [SCHEMA_CHANGE, APP_CHANGE] } });
    const err = await rejection(run(driver, new FakeGates(), 'expand').done);
    expect(err).toBeInstanceOf(PreviewRefusedError);
    expect(err).toMatchObject({ refusal: 'both-sides', from: 'baseline', to: 'expand', exitCode: 1 });
    expect(driver.ups).toEqual([]);
    expect(driver.configured).toBe('baseline');
  });

  it('refuses a step whose preview changes a resource of no known side, naming it; applies nothing', async () => {
    const stray = {
      op: 'create',
      type: 'random:index/randomId:RandomId',
      urn: 'urn:pulumi:dev::tandem::random:index/randomId:RandomId::suffix',
    };
    const driver = new FakeStackDriver({ stage: 'expand', previews: { 'dual-write': [APP_CHANGE, stray] } });
    const gates = new FakeGates();
    const err = await rejection(run(driver, gates, 'dual-write').done);
    expect(err).toBeInstanceOf(PreviewRefusedError);
    expect(err).toMatchObject({ refusal: 'unknown-side', offending: [stray], exitCode: 1 });
    expect(err.message).toContain(stray.urn);
    expect(driver.ups).toEqual([]);
    expect(gates.calls).toEqual([]);
    expect(driver.configured).toBe('expand');
  });

  it('refuses a step whose preview changes only the side it must not touch', async () => {
    const driver = new FakeStackDriver({ stage: 'expand', previews: { 'dual-write': [SCHEMA_CHANGE] } });
    const gates = new FakeGates();
    const err = await rejection(run(driver, gates, 'dual-write').done);
    expect(err).toMatchObject({ refusal: 'wrong-side', offending: [SCHEMA_CHANGE] });
    expect(err.message).toContain('may change only the app');
    expect(driver.ups).toEqual([]);
    expect(gates.calls).toEqual([]);
  });

  it('a walk of several steps stops at the refused one: the earlier steps stay applied', async () => {
    const driver = new FakeStackDriver({ stage: 'baseline', previews: { cleanup: [APP_CHANGE, SCHEMA_CHANGE] } });
    const err = await rejection(run(driver, new FakeGates(), 'contract').done);
    expect(err).toMatchObject({ refusal: 'both-sides', to: 'cleanup' });
    expect(driver.ups).toEqual(['expand', 'dual-write']);
    expect([driver.deployed, driver.configured]).toEqual(['dual-write', 'dual-write']);
  });

  it('refuses to up without an update plan, since the up could then differ from the checked preview', async () => {
    const driver = new FakeStackDriver({ stage: 'baseline', noPlan: true });
    const err = await rejection(run(driver, new FakeGates(), 'expand').done);
    expect(err).toBeInstanceOf(RefusedError);
    expect(err.message).toContain('the preview saved no update plan');
    expect(driver.ups).toEqual([]);
    expect(driver.configured).toBe('baseline');
  });

  it('the first deployment may create both sides, but not update anything', async () => {
    const driver = new FakeStackDriver({ stage: null, previews: { baseline: [SCHEMA_CHANGE] } });
    const err = await rejection(run(driver, new FakeGates(), 'baseline').done);
    expect(err).toMatchObject({ refusal: 'first-deployment-changes' });
    expect(driver.ups).toEqual([]);
  });
});

describe('walk: gates', () => {
  it('a failing verify stops before dual-write with what to do next; nothing applied', async () => {
    const driver = new FakeStackDriver({ stage: 'expand' });
    const gates = new FakeGates({
      verify: { ok: false, detail: '12 rows not backfilled', next: 'Finish the backfill.' },
    });
    const err = await rejection(run(driver, gates, 'cleanup').done);
    expect(err).toBeInstanceOf(GateFailedError);
    expect(err.message).toBe(
      'gate verify before expand -> dual-write did not pass: 12 rows not backfilled. Finish the backfill.',
    );
    expect(driver.ups).toEqual([]);
    expect(driver.configured).toBe('expand');
  });

  it('a Degraded rollout stops the walk before cleanup and says how to walk back (real gates, fixture Rollout)', async () => {
    const driver = new FakeStackDriver({ stage: 'dual-write', outputs: { rolloutName: 'shop', namespace: 'prod' } });
    const reads: string[] = [];
    const gates = createGates({
      driver,
      projectDir: '/nonexistent',
      waitSeconds: 0,
      readRollout: async (name, namespace) => {
        reads.push(`${namespace}/${name}`);
        return rollouts.degraded;
      },
    });
    const err = await rejection(run(driver, gates, 'contract').done);
    expect(err).toBeInstanceOf(GateFailedError);
    expect(err.gate).toBe('rollout-healthy');
    expect(err.message).toContain('Rollout prod/shop: the rollout was aborted: RolloutAborted');
    expect(err.message).toContain('walk back with `tandem walk --stack dev --to expand`');
    expect(reads).toEqual(['prod/shop']);
    expect(driver.ups).toEqual([]);
  });

  it('the walk is not confirmed: stops before the up', async () => {
    const driver = new FakeStackDriver({ stage: 'baseline' });
    const asked: string[] = [];
    const err = await rejection(
      run(driver, new FakeGates(), 'expand', {
        yes: false,
        confirm: async (step, changes) => {
          asked.push(`${step.from}->${step.to}: ${changes.schema.length} schema`);
          return false;
        },
      }).done,
    );
    expect(err).toBeInstanceOf(RefusedError);
    expect(asked).toEqual(['baseline->expand: 1 schema']);
    expect(driver.ups).toEqual([]);
  });

  it('refuses to run with neither yes nor a way to confirm', async () => {
    const driver = new FakeStackDriver({ stage: 'baseline' });
    await expect(walk(driver, new FakeGates(), { to: 'expand' })).rejects.toThrow('confirm each step, or pass yes');
    expect(driver.calls).toEqual([]);
  });
});

describe("walk: after an app step's up, the walker waits for its canary (real gates, fixture Rollouts)", () => {
  /** A clock that only moves when the gate sleeps: no real waiting, no timed assertions. */
  function clock() {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => void (t += ms) };
  }

  /**
   * Real rollout gates over a reader that returns the objects in turn (the last repeats), noting
   * the deployed stage at each read; the database (asked before a walk back) says backfilled.
   */
  function settling(driver: FakeStackDriver, objects: RolloutObject[], waitSeconds = 600) {
    const reads: string[] = [];
    const progress: string[] = [];
    let i = 0;
    const c = clock();
    const real = createGates({
      driver,
      projectDir: '/nonexistent',
      onProgress: (text) => progress.push(text),
      waitSeconds,
      pollSeconds: 5,
      now: c.now,
      sleep: c.sleep,
      namespaceExists: async () => true,
      readRollout: async () => {
        reads.push(`read at ${driver.deployed}`);
        return objects[Math.min(i++, objects.length - 1)];
      },
    });
    const gates: Gates = {
      ...real,
      schemaStep: async () => ({ step: 'backfilled', detail: 'split-full-name on public.customers is backfilled' }),
    };
    return { gates, reads, progress };
  }

  it('does not take the previous Healthy status for the new canary: waits through it until the new one is Healthy', async () => {
    const driver = new FakeStackDriver({ stage: 'expand' });
    const { gates, reads } = settling(driver, [rollouts.staleGeneration, rollouts.progressing, rollouts.healthy]);
    const gatesCalled: string[] = [];
    const verify = async () => (gatesCalled.push('verify'), { ok: true, detail: 'consistent' });
    const { events, done } = run(driver, { ...gates, verify }, 'dual-write');
    await done;
    expect(gatesCalled).toEqual(['verify']);
    expect(reads).toEqual(['read at dual-write', 'read at dual-write', 'read at dual-write']);
    expect(events.filter((e) => e.event === 'rollout')).toEqual([
      {
        event: 'rollout',
        from: 'expand',
        to: 'dual-write',
        ok: true,
        detail: expect.stringContaining('Healthy and fully promoted'),
      },
    ]);
    // The step is done only once the canary is.
    expect(events.map((e) => e.event).slice(-3)).toEqual(['rollout', 'step-done', 'done']);
  });

  it.each<[string, RolloutObject, RegExp]>([
    [
      'aborted by its analysis',
      rollouts.degraded,
      /the rollout was aborted: RolloutAborted.*walk back with `tandem walk --stack dev --to expand`/,
    ],
    [
      'Degraded (progress deadline)',
      rollouts.timedOut,
      /the rollout is Degraded: ProgressDeadlineExceeded.*walk back with `tandem walk --stack dev --to expand`/,
    ],
    [
      'paused for a human',
      rollouts.paused,
      /waits for a human \(the stack is at dual-write\): promote it with `kubectl argo rollouts promote tandem-demo -n default`/,
    ],
  ])(
    'a canary %s stops the walk there with a sentence; the stack stays at the applied stage',
    async (_name, rollout, message) => {
      const driver = new FakeStackDriver({ stage: 'expand' });
      const { gates } = settling(driver, [rollouts.staleGeneration, rollout]);
      const err = await rejection(
        run(driver, { ...gates, verify: async () => ({ ok: true, detail: 'consistent' }) }, 'contract').done,
      );
      expect(err).toBeInstanceOf(RolloutNotSettledError);
      expect(err).toMatchObject({ exitCode: 1, from: 'expand', to: 'dual-write' });
      expect(err.message).toMatch(
        /^expand -> dual-write was applied, but its canary did not end fully promoted and Healthy: Rollout default\/tandem-demo: /,
      );
      expect(err.message).toMatch(message);
      expect(driver.ups).toEqual(['dual-write']);
      // The up went through: the config is not put back to expand.
      expect([driver.deployed, driver.configured]).toEqual(['dual-write', 'dual-write']);
    },
  );

  it('a timed pause step is waited through, never reported as needing a promote', async () => {
    const driver = new FakeStackDriver({ stage: 'dual-write' });
    const { gates, reads, progress } = settling(driver, [rollouts.timedPause, rollouts.timedPause, rollouts.healthy]);
    const { events, done } = run(
      driver,
      { ...gates, rolloutHealthy: async () => ({ ok: true, detail: 'Healthy' }) },
      'cleanup',
    );
    await done;
    expect(reads).toHaveLength(3);
    expect(JSON.stringify(events)).not.toContain('rollouts promote');
    expect(progress[0]).toContain('the rollout is in a timed pause (30s) at step 3');
  });

  it('respects the wait: a canary still going when it runs out stops the walk, saying how to watch it', async () => {
    const driver = new FakeStackDriver({ stage: 'dual-write' });
    const { gates, reads } = settling(driver, [rollouts.progressing], 12);
    const err = await rejection(
      run(driver, { ...gates, rolloutHealthy: async () => ({ ok: true, detail: 'Healthy' }) }, 'cleanup').done,
    );
    expect(err).toBeInstanceOf(RolloutNotSettledError);
    expect(err.message).toContain('The v3 canary is still going after the wait (the stack is at cleanup)');
    expect(err.message).toContain('kubectl argo rollouts get rollout tandem-demo -n default --watch');
    expect(err.message).not.toContain('rollouts promote');
    expect(reads).toHaveLength(4); // at 0, 5, 10 and 15 s
  });

  it('a canary Degraded after a move back says to retry it, not to walk back further', async () => {
    const driver = new FakeStackDriver({ stage: 'cleanup' });
    const { gates } = settling(driver, [rollouts.degraded]);
    const err = await rejection(run(driver, gates, 'dual-write').done);
    expect(err).toBeInstanceOf(RolloutNotSettledError);
    expect(err.message).toContain('The v2 canary did not go through (the stack is at dual-write)');
    expect(err.message).toContain('`kubectl argo rollouts retry rollout tandem-demo -n default`');
  });

  it.each<[Stage | null, Stage]>([
    ['baseline', 'expand'],
    ['expand', 'baseline'],
  ])('a step that is not an app step (%s -> %s) does not read the Rollout', async (from, to) => {
    const driver = new FakeStackDriver({ stage: from });
    const { gates, reads } = settling(driver, [rollouts.degraded]);
    await run(driver, gates, to).done;
    expect(reads).toEqual([]);
  });

  it('the first deployment waits for the Rollout it created (the up does not: skipAwait), and a Degraded one stops the walk', async () => {
    const driver = new FakeStackDriver({ stage: null });
    const { gates, reads } = settling(driver, [rollouts.degraded]);
    const err = await rejection(run(driver, gates, 'expand').done);
    expect(err).toBeInstanceOf(RolloutNotSettledError);
    expect(reads).toEqual(['read at baseline']);
    expect(driver.ups).toEqual(['baseline']);
  });
});

describe('walk: the cluster is checked before the first up', () => {
  const gatesWith = (driver: FakeStackDriver, namespaces: string[], asked: string[]) =>
    createGates({
      driver,
      projectDir: '/nonexistent',
      waitSeconds: 0,
      readRollout: async () => rollouts.healthy,
      namespaceExists: async (name) => {
        asked.push(name);
        return namespaces.includes(name);
      },
    });

  it('a namespace that does not exist: refused in one sentence naming it and the command, nothing applied', async () => {
    const driver = new FakeStackDriver({ stage: null, config: { 'tandem:namespace': 'shop' } });
    const asked: string[] = [];
    const err = await rejection(run(driver, gatesWith(driver, ['default'], asked), 'baseline').done);
    expect(err).toBeInstanceOf(ClusterNotReadyError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe(
      'stack dev has never been deployed, and its first up needs the cluster ready: namespace shop (tandem:namespace) does not exist in the current kube context. ' +
        'The stack creates no namespace: create it with `kubectl create namespace shop` (and install Argo Rollouts in the cluster), then run the walk again.',
    );
    expect(driver.ups).toEqual([]);
    expect(asked).toEqual(['shop']);
  });

  it('the namespace exists: the first up runs; a deployed stack and render mode are not asked', async () => {
    const first = new FakeStackDriver({ stage: null, config: { 'tandem:namespace': 'shop' } });
    const asked: string[] = [];
    await run(first, gatesWith(first, ['shop'], asked), 'baseline').done;
    expect(first.ups).toEqual(['baseline']);
    const deployed = new FakeStackDriver({ stage: 'baseline', config: { 'tandem:namespace': 'gone' } });
    await run(deployed, gatesWith(deployed, [], asked), 'expand').done;
    const rendered = new FakeStackDriver({
      stage: null,
      config: { 'tandem:namespace': 'gone', 'tandem:renderYamlTo': 'out' },
    });
    await run(rendered, gatesWith(rendered, [], asked), 'baseline').done;
    expect(asked).toEqual(['shop']);
  });
});

describe('walk: one walker per stack', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-walk-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a second walker on the same stack is refused cleanly while the first holds the lock', async () => {
    const first = acquireWalkLock(dir, 'dev');
    const driver = new FakeStackDriver({ stage: 'baseline' });
    const err = await rejection(run(driver, new FakeGates(), 'expand', { lockDir: dir }).done);
    expect(err).toBeInstanceOf(StackBusyError);
    expect(err.message).toContain(`stack dev is being changed by another process (walker pid ${process.pid}`);
    expect(driver.calls).toEqual([]);
    first.release();
    await run(driver, new FakeGates(), 'expand', { lockDir: dir }).done;
    expect(driver.ups).toEqual(['expand']);
    expect(fs.existsSync(walkLockPath(dir, 'dev'))).toBe(false);
  });

  it('releases the lock when a step is refused', async () => {
    const driver = new FakeStackDriver({ stage: 'baseline', previews: { expand: [APP_CHANGE] } });
    await rejection(run(driver, new FakeGates(), 'expand', { lockDir: dir }).done);
    expect(fs.existsSync(walkLockPath(dir, 'dev'))).toBe(false);
  });

  it("Pulumi's own stack lock (another up on the backend) ends in the same refusal, config restored", async () => {
    const driver = new FakeStackDriver({
      stage: 'baseline',
      upFailsAt: {
        stage: 'expand',
        error: new StackBusyError('dev', 'Pulumi reports the stack is locked by another update'),
      },
    });
    const err = await rejection(run(driver, new FakeGates(), 'expand').done);
    expect(err).toBeInstanceOf(StackBusyError);
    expect(err.message).toMatch(/^stack dev is being changed by another process/);
    expect(driver.configured).toBe('baseline');
  });
});

describe('walk: an interrupted update', () => {
  const pending = [{ urn: APP_CHANGE.urn, type: APP_CHANGE.type, op: 'updating' }];

  it('is detected and reported with the exact command that recovers it; nothing runs', async () => {
    const driver = new FakeStackDriver({ stage: 'dual-write', pending });
    const err = await rejection(run(driver, new FakeGates(), 'cleanup').done);
    expect(err).toBeInstanceOf(PendingOperationsError);
    expect(err.pending).toEqual(pending);
    expect(err.message).toContain(`${APP_CHANGE.urn} (interrupted while updating)`);
    expect(err.message).toContain('`pulumi refresh --stack dev --clear-pending-creates --yes`');
    expect(driver.calls).toEqual(['pendingOperations']);
  });

  it('is recovered first with recover, then the walk goes on', async () => {
    const driver = new FakeStackDriver({ stage: 'dual-write', pending });
    const { events, done } = run(driver, new FakeGates(), 'cleanup', { recover: true });
    await done;
    expect(driver.calls.slice(0, 3)).toEqual(['pendingOperations', 'recoverPendingOperations', 'pendingOperations']);
    expect(events[0]).toEqual({ event: 'recovered', stack: 'dev', pendingOperations: 1 });
    expect(driver.ups).toEqual(['cleanup']);
  });
});

describe('plan', () => {
  it('shows the path with sides and gates and previews the first step, applying nothing', async () => {
    const driver = new FakeStackDriver({ stage: 'expand' });
    const result = await plan(driver, { to: 'contract', preview: true });
    expect(result.steps.map((s) => [s.to, s.side, s.gates.join('+')])).toEqual([
      ['dual-write', 'app', 'verify'],
      ['cleanup', 'app', 'rollout-healthy'],
      ['contract', 'schema', 'rollout-healthy+verify'],
    ]);
    expect(result.steps[0].preview).toEqual({ schema: [], app: [`update ${APP_CHANGE.urn}`], neutral: [] });
    expect(result.steps[1].preview).toBeUndefined();
    expect(driver.ups).toEqual([]);
    expect(driver.configured).toBe('expand');
  });

  it('reports a first step the walk would refuse', async () => {
    const driver = new FakeStackDriver({ stage: 'expand', previews: { 'dual-write': [APP_CHANGE, SCHEMA_CHANGE] } });
    const result = await plan(driver, { to: 'dual-write', preview: true });
    expect(result.steps[0].refused).toContain('changes both the schema');
    expect(driver.configured).toBe('expand');
  });

  it('reports pending operations and their recovery command instead of previewing', async () => {
    const driver = new FakeStackDriver({ stage: 'expand', pending: [{ urn: 'u', type: 't', op: 'creating' }] });
    const result = await plan(driver, { to: 'dual-write', preview: true });
    expect(result.recoveryCommand).toBe(driver.recoveryCommand());
    expect(driver.calls.some((c) => c.startsWith('preview'))).toBe(false);
  });
});
