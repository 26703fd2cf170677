import { Output } from '../cli/output';
import { commandHelp, main, usageLine } from '../cli/main';
import { COMMANDS } from '../cli/commands';
import { planCommand, printPlan } from '../cli/commands/plan';
import { walkCommand, walkEventPrinter } from '../cli/commands/walk';
import { plan } from '../automation/plan';
import { APP_CHANGE, FakeStackDriver } from './fake-stack-driver';

function recorder() {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out: Output = {
    color: false,
    isTTY: false,
    line: (t = '') => void stdout.push(t),
    info: (t) => void stderr.push(t),
    progress: (t) => void stderr.push(t),
    endProgress: () => undefined,
    ok: (t) => `ok ${t}`,
    fail: (t) => `FAIL ${t}`,
    warn: (t) => `warn ${t}`,
    dim: (t) => t,
  };
  return { out, stdout, stderr };
}

const noPulumi = { PATH: '/nonexistent-bin', PULUMI_CONFIG_PASSPHRASE: '' };

describe('tandem walk / plan on the command line', () => {
  it.each([['walk'], ['plan']])(
    '%s without a pulumi CLI on PATH: exit 1, one sentence on how to install it',
    async (cmd) => {
      const r = recorder();
      const code = await main(
        [cmd, '--stack', 'dev', '--to', 'expand', '--yes'].filter((a) => cmd === 'walk' || a !== '--yes'),
        r.out,
        noPulumi,
      );
      expect(code).toBe(1);
      expect(r.stderr).toEqual([
        'FAIL failed: the walker drives the pulumi CLI, and no `pulumi` is on PATH; install it (https://www.pulumi.com/docs/install/) and run the command again',
      ]);
      expect(r.stdout).toEqual([]);
    },
  );

  it('walk --json without pulumi: the last stdout line is the outcome every command prints', async () => {
    const r = recorder();
    expect(await main(['walk', '--stack', 'dev', '--to', 'expand', '--yes', '--json'], r.out, noPulumi)).toBe(1);
    expect(r.stdout).toHaveLength(1);
    expect(JSON.parse(r.stdout[0])).toEqual({
      ok: false,
      exit_code: 1,
      error: { kind: 'pulumi_missing', message: expect.stringMatching(/no `pulumi` is on PATH/) },
      warnings: [],
    });
  });

  it.each([
    [
      ['walk', '--stack', 'dev', '--to', 'finished', '--yes'],
      '--to "finished" is not a stage; stages are: baseline, expand, dual-write, cleanup, contract (or next)',
    ],
    [['walk', '--to', 'expand', '--yes'], 'tandem walk needs --stack NAME'],
    [
      ['plan', '--stack', 'dev'],
      'tandem plan needs --to STAGE (one of: baseline, expand, dual-write, cleanup, contract)',
    ],
    [['walk', 'dev', '--to', 'expand'], 'tandem walk takes no arguments, but got: dev'],
  ])('%j: exit 2, %s', async (argv, message) => {
    const r = recorder();
    expect(await main(argv, r.out, noPulumi)).toBe(2);
    expect(r.stderr).toEqual([`FAIL invalid input: ${message}`]);
  });

  it('walk without --yes when stdin is not a terminal: exit 1 before touching the stack', async () => {
    const r = recorder();
    const stdinTTY = process.stdin.isTTY;
    (process.stdin as any).isTTY = false;
    try {
      expect(await main(['walk', '--stack', 'dev', '--to', 'expand'], r.out, noPulumi)).toBe(1);
    } finally {
      (process.stdin as any).isTTY = stdinTTY;
    }
    expect(r.stderr).toEqual([
      'FAIL failed: the walk asks before each up and stdin is not a terminal; pass --yes to apply without asking',
    ]);
  });
});

describe('usage lines', () => {
  it.each(COMMANDS.map((cmd) => [cmd.name, cmd] as const))(
    '%s: the usage line and the help name every flag the command takes',
    (_name, cmd) => {
      const usage = usageLine(cmd);
      const help = commandHelp(cmd);
      const flags = [...Object.keys(cmd.flags), 'json', 'debug', 'help'];
      const missing = flags.filter((flag) => !usage.includes(`--${flag}`) || !help.includes(`  --${flag}`));
      expect({ command: cmd.name, missing }).toEqual({ command: cmd.name, missing: [] });
    },
  );

  it('rollback --help names --hold-timeout, with its default, and repair names --lock-timeout', async () => {
    const r = recorder();
    expect(await main(['rollback', '--help'], r.out, noPulumi)).toBe(0);
    expect(r.stdout.join('\n')).toMatch(/^Usage: tandem rollback SPEC .*\[--hold-timeout MS\]/m);
    expect(r.stdout.join('\n')).toMatch(/--hold-timeout MS .*\(default 2000\)/);
    const repair = recorder();
    expect(await main(['repair', '-h'], repair.out, noPulumi)).toBe(0);
    expect(repair.stdout[0]).toMatch(/^Usage: tandem repair SPEC .*\[--lock-timeout MS\]/);
    expect(repair.stdout[0]).toContain('[--keys K1,K2]');
  });

  it('required flags come first, without brackets', () => {
    expect(usageLine(walkCommand)).toMatch(/^tandem walk --stack NAME --to STAGE \[/);
    expect(usageLine(planCommand)).toMatch(/^tandem plan --stack NAME --to STAGE \[/);
  });
});

describe('walk text output', () => {
  it('prints a line per stage with its elapsed time and what changed, progress in between', () => {
    const r = recorder();
    let t = 1000;
    const print = walkEventPrinter(r.out, () => t);
    print({ event: 'start', stack: 'dev', from: 'expand', to: 'dual-write', steps: 1 });
    print({ event: 'step-start', index: 0, from: 'expand', to: 'dual-write', side: 'app' });
    print({
      event: 'preview',
      from: 'expand',
      to: 'dual-write',
      schema: [],
      app: ['update urn:x'],
      neutral: [],
      plan: true,
    });
    print({ event: 'gate', gate: 'verify', from: 'expand', to: 'dual-write', ok: true, detail: '50 rows consistent' });
    t += 7000;
    print({
      event: 'resource',
      to: 'dual-write',
      phase: 'pre',
      op: 'update',
      urn: 'urn:pulumi:dev::tandem::tandem:app:AppRollout$kubernetes:argoproj.io/v1alpha1:Rollout::app',
      type: 'kubernetes:argoproj.io/v1alpha1:Rollout',
    });
    print({
      event: 'rollout',
      from: 'expand',
      to: 'dual-write',
      ok: true,
      detail: 'Rollout default/tandem-demo: the rollout is Healthy and fully promoted (ReplicaSet 6c8f9b7d54)',
    });
    print({
      event: 'step-done',
      from: 'expand',
      to: 'dual-write',
      seconds: 42.25,
      resourceChanges: { update: 1, same: 9 },
    });
    print({ event: 'done', stack: 'dev', stage: 'dual-write', steps: 1, seconds: 43 });
    expect(r.stdout).toEqual([
      'Walking stack dev from expand to dual-write: 1 step(s), one up each.',
      'ok expand -> dual-write  42.3s  (update 1)',
      'ok stack dev is at dual-write (1 step(s), 43.0s)',
    ]);
    expect(r.stderr).toEqual([
      'expand -> dual-write: previewing (may change only the app) [0s]',
      'expand -> dual-write: preview changes 0 schema, 1 app, 0 neutral resource(s) [0s]',
      '  ok gate verify: 50 rows consistent',
      'dual-write: update app (kubernetes:argoproj.io/v1alpha1:Rollout) [7s]',
      '  ok dual-write canary: Rollout default/tandem-demo: the rollout is Healthy and fully promoted (ReplicaSet 6c8f9b7d54)',
    ]);
  });
});

describe('walk text output before a walk back', () => {
  it.each([
    ['backfilled', 'ok database: split-full-name on public.customers is backfilled'],
    ['contracted', 'FAIL database: split-full-name on public.customers is contracted'],
  ] as const)('the database says %s: %s', (step, line) => {
    const r = recorder();
    walkEventPrinter(r.out)({ event: 'schema-step', step, detail: `split-full-name on public.customers is ${step}` });
    expect(r.stderr).toEqual([`  ${line}`]);
  });
});

describe('plan text output', () => {
  it("shows each step's side, gates and why, and the first step's preview", async () => {
    const r = recorder();
    printPlan(r.out, await plan(new FakeStackDriver({ stage: 'expand' }), { to: 'cleanup', preview: true }));
    expect(r.stdout).toEqual([
      'Stack dev: expand -> cleanup, 2 step(s), one up each (nothing is applied):',
      '  1. expand -> dual-write  changes only the app; gates: verify; after the up, waits for the v2 canary',
      '     v2 reads the new columns, so every row must be backfilled and consistent first',
      '     preview: 0 schema, 1 app, 0 neutral change(s)',
      `       update ${APP_CHANGE.urn}`,
      '  2. dual-write -> cleanup  changes only the app; gates: rollout-healthy; after the up, waits for the v3 canary',
      '     v3 stops writing the old columns, so v2 must be fully promoted and Healthy first',
    ]);
  });

  it('says when the stack is already there', async () => {
    const r = recorder();
    printPlan(r.out, await plan(new FakeStackDriver({ stage: 'contract' }), { to: 'contract', preview: true }));
    expect(r.stdout).toEqual(['ok stack dev is already at contract; nothing to do']);
  });
});
