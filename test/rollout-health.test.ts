import { evaluateRollout, RolloutObject, RolloutVerdict } from '../phases/deploy/rollout-health';
import * as fx from './rollout-health-fixtures';

describe('evaluateRollout on Rollouts shaped as Argo Rollouts v1.9 writes them', () => {
  it.each<[string, RolloutObject, RolloutVerdict, string]>([
    ['Healthy, fully promoted', fx.healthy, 'healthy', 'Healthy and fully promoted (ReplicaSet 6c8f9b7d54)'],
    ['Progressing mid-canary', fx.progressing, 'progressing', 'Progressing: more replicas need to be updated'],
    ['Paused at a canary pause step', fx.paused, 'paused', 'paused (CanaryPauseStep)'],
    ['Paused at a timed pause step (resumes on its own)', fx.timedPause, 'progressing', 'timed pause (30s) at step 3'],
    [
      'aborted (analysis failed)',
      fx.degraded,
      'degraded',
      'aborted: RolloutAborted: Rollout aborted update to revision 3',
    ],
    ['Degraded by the progress deadline', fx.timedOut, 'degraded', 'Degraded: ProgressDeadlineExceeded'],
    [
      'stale generation (status is for the previous spec)',
      fx.staleGeneration,
      'progressing',
      'metadata.generation 5, status.observedGeneration 3',
    ],
    [
      'Healthy phase but stable ReplicaSet not the current one',
      fx.notPromoted,
      'progressing',
      'not fully promoted (stable ReplicaSet 6c8f9b7d54, desired 7d5c4f6b89)',
    ],
    ['no status yet', fx.noStatus, 'progressing', 'has not reported a status'],
  ])('%s', (_name, rollout, verdict, reason) => {
    const health = evaluateRollout(rollout);
    expect(health.verdict).toBe(verdict);
    expect(health.reason).toContain(reason);
  });

  it('compares observedGeneration (a string) with metadata.generation (a number) as strings', () => {
    expect(fx.healthy.status!.observedGeneration).toBe('3');
    expect(fx.healthy.metadata!.generation).toBe(3);
    expect(evaluateRollout(fx.healthy).verdict).toBe('healthy');
    expect(evaluateRollout({ ...fx.healthy, status: { ...fx.healthy.status, observedGeneration: '30' } }).verdict).toBe(
      'progressing',
    );
  });

  it('a timed pause step that was also paused by hand (spec.paused) waits for a human', () => {
    expect(evaluateRollout({ ...fx.timedPause, spec: { ...fx.timedPause.spec, paused: true } }).verdict).toBe('paused');
  });

  it('a manually paused Rollout (spec.paused) is paused even when its status still says Healthy', () => {
    expect(evaluateRollout({ ...fx.healthy, spec: { paused: true } })).toEqual({
      verdict: 'paused',
      reason: 'the rollout is paused (manually paused (spec.paused))',
    });
  });

  it('a promoted Rollout whose controller has not acted yet (pauseConditions cleared, phase still Paused) is progressing', () => {
    const resuming = { ...fx.paused, status: { ...fx.paused.status, pauseConditions: [] } };
    expect(resuming.status.phase).toBe('Paused');
    expect(evaluateRollout(resuming)).toEqual({
      verdict: 'progressing',
      reason: 'the rollout is resuming from a pause',
    });
  });
});
