import { Output } from '../cli/output';
import { main } from '../cli/main';

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
  it.each([['walk'], ['plan']])('%s without a pulumi CLI on PATH: exit 1, one sentence on how to install it', async (cmd) => {
    const r = recorder();
    const code = await main([cmd, '--stack', 'dev', '--to', 'expand', '--yes'].filter((a) => cmd === 'walk' || a !== '--yes'), r.out, noPulumi);
    expect(code).toBe(1);
    expect(r.stderr).toEqual([
      'FAIL failed: the walker drives the pulumi CLI, and no `pulumi` is on PATH; install it (https://www.pulumi.com/docs/install/) and run the command again',
    ]);
    expect(r.stdout).toEqual([]);
  });

  it('walk --json without pulumi: the last stdout line is an error event', async () => {
    const r = recorder();
    expect(await main(['walk', '--stack', 'dev', '--to', 'expand', '--yes', '--json'], r.out, noPulumi)).toBe(1);
    expect(JSON.parse(r.stdout[r.stdout.length - 1])).toMatchObject({ event: 'error', exitCode: 1, error: 'PulumiMissingError' });
  });

  it.each([
    [['walk', '--stack', 'dev', '--to', 'finished', '--yes'], '--to "finished" is not a stage; stages are: baseline, expand, dual-write, cleanup, contract'],
    [['walk', '--to', 'expand', '--yes'], 'tandem walk needs --stack NAME'],
    [['plan', '--stack', 'dev'], 'tandem plan needs --to STAGE (one of: baseline, expand, dual-write, cleanup, contract)'],
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
    expect(r.stderr).toEqual(['FAIL failed: the walk asks before each up and stdin is not a terminal; pass --yes to apply without asking']);
  });
});
