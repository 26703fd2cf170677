/**
 * Is an Argo Rollout fully promoted and Healthy? A pure reading of the object as the Argo
 * Rollouts v1.9 controller writes it (status.phase/message are computed controller side;
 * status.observedGeneration is a STRING; status.stableRS equals status.currentPodHash once
 * every canary step has completed). The walker's gate before cleanup and before contract.
 */

/** The parts of a Rollout the evaluation reads; everything is optional because status may be absent. */
export interface RolloutObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly generation?: number | string };
  readonly spec?: {
    readonly paused?: boolean;
    readonly strategy?: {
      readonly canary?: { readonly steps?: readonly { readonly pause?: { readonly duration?: string | number } }[] };
    };
  };
  readonly status?: {
    readonly phase?: string;
    readonly message?: string;
    readonly abort?: boolean;
    readonly stableRS?: string;
    readonly currentPodHash?: string;
    readonly observedGeneration?: string | number;
    readonly controllerPause?: boolean;
    readonly pauseConditions?: readonly { readonly reason?: string; readonly startTime?: string }[];
    readonly conditions?: readonly {
      readonly type?: string;
      readonly status?: string;
      readonly reason?: string;
      readonly message?: string;
    }[];
    readonly currentStepIndex?: number;
  };
}

/**
 * healthy: fully promoted and Healthy. progressing: will get there on its own (wait).
 * paused: waits for a human (promote). degraded: aborted or failing; the walk must stop.
 */
export type RolloutVerdict = 'healthy' | 'progressing' | 'paused' | 'degraded';

export interface RolloutHealth {
  readonly verdict: RolloutVerdict;
  /** One sentence: what the status shows. */
  readonly reason: string;
}

function pauseReasons(ro: RolloutObject): string[] {
  const reasons = (ro.status?.pauseConditions ?? []).map((p) => p.reason ?? 'unknown reason');
  if (ro.spec?.paused) reasons.unshift('manually paused (spec.paused)');
  return reasons;
}

export function evaluateRollout(ro: RolloutObject): RolloutHealth {
  const status = ro.status;
  const generation = ro.metadata?.generation;
  if (!status || status.observedGeneration === undefined || status.observedGeneration === '') {
    return { verdict: 'progressing', reason: 'the Rollout controller has not reported a status yet' };
  }
  if (generation !== undefined && String(status.observedGeneration) !== String(generation)) {
    return {
      verdict: 'progressing',
      reason: `the controller has not observed the latest spec yet (metadata.generation ${generation}, status.observedGeneration ${status.observedGeneration})`,
    };
  }
  const message = status.message ? `: ${status.message}` : '';
  if (status.abort) return { verdict: 'degraded', reason: `the rollout was aborted${message}` };
  if (status.phase === 'Degraded') return { verdict: 'degraded', reason: `the rollout is Degraded${message}` };
  const paused = pauseReasons(ro);
  // Someone cleared the pause conditions (promote) and the controller has not reacted yet: its
  // status.phase may still say Paused (Argo's IsUnpausing, checked before the phase like GetRolloutPhase).
  if (status.controllerPause && paused.length === 0)
    return { verdict: 'progressing', reason: 'the rollout is resuming from a pause' };
  // A timed pause step (`pause: {duration: 30s}`) is reported exactly like an indefinite one
  // (CanaryPauseStep, phase Paused); only the step itself tells that it resumes on its own.
  const step =
    status.currentStepIndex !== undefined ? ro.spec?.strategy?.canary?.steps?.[status.currentStepIndex] : undefined;
  const timedPause =
    !ro.spec?.paused &&
    step?.pause?.duration !== undefined &&
    (status.pauseConditions ?? []).every((p) => p.reason === 'CanaryPauseStep');
  if (timedPause)
    return {
      verdict: 'progressing',
      reason: `the rollout is in a timed pause (${step!.pause!.duration}) at step ${status.currentStepIndex}`,
    };
  if (paused.length > 0 || status.phase === 'Paused') {
    return { verdict: 'paused', reason: `the rollout is paused (${paused.join(', ') || status.message || 'Paused'})` };
  }
  if (status.phase !== 'Healthy') {
    return { verdict: 'progressing', reason: `the rollout is ${status.phase ?? 'in an unknown phase'}${message}` };
  }
  if (!status.stableRS || status.stableRS !== status.currentPodHash) {
    return {
      verdict: 'progressing',
      reason: `the rollout is not fully promoted (stable ReplicaSet ${status.stableRS || 'none'}, desired ${status.currentPodHash || 'unknown'})`,
    };
  }
  return { verdict: 'healthy', reason: `the rollout is Healthy and fully promoted (ReplicaSet ${status.stableRS})` };
}
