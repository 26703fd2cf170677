import { UnsafeMoveBackError, walkPath } from '../phases/deploy/walk-path';
import { Stage } from '../phases/deploy/stages';

const hops = (from: Stage | null, to: Stage) =>
  walkPath(from, to).map((s) => `${s.from ?? '-'}>${s.to}:${s.side ?? 'create'}:${s.gates.join('+') || 'none'}`);

describe('walkPath: one adjacent stage per up, never skipping', () => {
  it.each<[Stage | null, Stage, string[]]>([
    ['baseline', 'baseline', []],
    ['cleanup', 'cleanup', []],
    ['contract', 'contract', []],
    ['baseline', 'expand', ['baseline>expand:schema:none']],
    ['expand', 'dual-write', ['expand>dual-write:app:verify']],
    ['dual-write', 'cleanup', ['dual-write>cleanup:app:rollout-healthy']],
    ['cleanup', 'contract', ['cleanup>contract:schema:rollout-healthy+verify']],
    [
      'baseline',
      'contract',
      [
        'baseline>expand:schema:none',
        'expand>dual-write:app:verify',
        'dual-write>cleanup:app:rollout-healthy',
        'cleanup>contract:schema:rollout-healthy+verify',
      ],
    ],
    ['expand', 'cleanup', ['expand>dual-write:app:verify', 'dual-write>cleanup:app:rollout-healthy']],
    ['expand', 'baseline', ['expand>baseline:schema:none']],
    ['dual-write', 'expand', ['dual-write>expand:app:none']],
    ['cleanup', 'dual-write', ['cleanup>dual-write:app:none']],
    [
      'cleanup',
      'baseline',
      ['cleanup>dual-write:app:none', 'dual-write>expand:app:none', 'expand>baseline:schema:none'],
    ],
    [null, 'baseline', ['->baseline:create:none']],
    [null, 'expand', ['->baseline:create:none', 'baseline>expand:schema:none']],
  ])('%s -> %s', (from, to, expected) => {
    expect(hops(from, to)).toEqual(expected);
  });

  it.each<[Stage | null, Stage]>([
    ['baseline', 'contract'],
    ['cleanup', 'baseline'],
    [null, 'cleanup'],
  ])('%s -> %s: every step joins adjacent stages and the path ends at the target', (from, to) => {
    const steps = walkPath(from, to);
    expect(steps[steps.length - 1]?.to ?? from).toBe(to);
    steps.slice(1).forEach((s, i) => expect(s.from).toBe(steps[i].to));
  });

  it.each<[Stage, Stage]>([
    ['contract', 'cleanup'],
    ['contract', 'baseline'],
  ])('walking back from %s to %s is refused with the table reason', (from, to) => {
    let caught: unknown;
    try {
      walkPath(from, to);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnsafeMoveBackError);
    const e = caught as UnsafeMoveBackError;
    expect(e.exitCode).toBe(1);
    expect([e.from, e.to]).toEqual(['contract', 'cleanup']);
    expect(e.message).toBe(
      'cannot walk back from contract to cleanup: contract dropped the old columns, so no earlier app version can run',
    );
  });

  it('moves back carry the reason they are safe', () => {
    expect(walkPath('expand', 'baseline')[0]).toMatchObject({
      direction: 'back',
      why: expect.stringContaining('v1 never used it'),
    });
  });
});
