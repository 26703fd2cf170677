/**
 * Rollout objects shaped as the Argo Rollouts v1.9 controller writes them (canary strategy):
 * status.phase/message computed controller side, status.observedGeneration a STRING, stableRS
 * equal to currentPodHash once all steps completed, pauseConditions while at a pause step,
 * abort + Degraded after an aborted canary.
 */
import { RolloutObject } from '../phases/deploy/rollout-health';

const metadata = (generation: number) => ({
  name: 'tandem-demo',
  namespace: 'default',
  generation,
  uid: '7c1f0a52-4f07-4d0e-9b0a-2f9d6f1b4a11',
});
const spec = {
  replicas: 3,
  strategy: {
    canary: { steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }, { pause: { duration: '30s' } }] },
  },
};

const condition = (type: string, status: string, reason: string, message: string) => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-11-25T14:00:00Z',
  lastUpdateTime: '2026-11-25T14:00:00Z',
});

export const healthy: RolloutObject = {
  metadata: metadata(3),
  spec,
  status: {
    HPAReplicas: 3,
    availableReplicas: 3,
    blueGreen: {},
    canary: {},
    conditions: [
      condition('Available', 'True', 'AvailableReason', 'Rollout has minimum availability'),
      condition('Completed', 'True', 'RolloutCompleted', 'Rollout completed update to revision 2'),
      condition('Progressing', 'True', 'NewReplicaSetAvailable', 'Rollout "tandem-demo" has successfully progressed.'),
      condition('Paused', 'False', 'RolloutResumed', 'Rollout is resumed'),
      condition('Healthy', 'True', 'RolloutHealthy', 'Rollout is healthy'),
    ],
    currentPodHash: '6c8f9b7d54',
    currentStepHash: '5b8c9c6f8f',
    currentStepIndex: 4,
    observedGeneration: '3',
    phase: 'Healthy',
    readyReplicas: 3,
    replicas: 3,
    selector: 'app=tandem-demo',
    stableRS: '6c8f9b7d54',
    updatedReplicas: 3,
  },
} as RolloutObject;

/** Mid-canary between steps: new ReplicaSet scaling up, stable still the old one. */
export const progressing: RolloutObject = {
  metadata: metadata(4),
  spec,
  status: {
    ...healthy.status,
    conditions: [
      condition('Available', 'True', 'AvailableReason', 'Rollout has minimum availability'),
      condition('Progressing', 'True', 'ReplicaSetUpdated', 'Rollout "tandem-demo" is progressing.'),
      condition('Healthy', 'False', 'RolloutHealthy', 'Rollout is not healthy'),
    ],
    currentPodHash: '7d5c4f6b89',
    currentStepIndex: 2,
    observedGeneration: '4',
    phase: 'Progressing',
    message: 'more replicas need to be updated',
    updatedReplicas: 1,
    stableRS: '6c8f9b7d54',
  },
} as RolloutObject;

/** Waiting at the indefinite pause step: the controller paused it for a human to promote. */
export const paused: RolloutObject = {
  metadata: metadata(4),
  spec,
  status: {
    ...progressing.status,
    controllerPause: true,
    pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-11-25T14:05:00Z' }],
    conditions: [
      condition('Available', 'True', 'AvailableReason', 'Rollout has minimum availability'),
      condition('Paused', 'True', 'RolloutPaused', 'Rollout is paused'),
      condition('Progressing', 'Unknown', 'RolloutPaused', 'Rollout is paused'),
      condition('Healthy', 'False', 'RolloutHealthy', 'Rollout is not healthy'),
    ],
    currentStepIndex: 1,
    phase: 'Paused',
    message: 'CanaryPauseStep',
  },
} as RolloutObject;

/** At the timed pause step (`pause: {duration: 30s}`): the controller writes it exactly like the indefinite one. */
export const timedPause: RolloutObject = {
  ...paused,
  status: { ...paused.status, currentStepIndex: 3 },
} as RolloutObject;

/** The canary's analysis failed and the controller aborted it: traffic back on stable. */
export const degraded: RolloutObject = {
  metadata: metadata(4),
  spec,
  status: {
    ...progressing.status,
    abort: true,
    abortedAt: '2026-11-25T14:07:00Z',
    conditions: [
      condition('Available', 'True', 'AvailableReason', 'Rollout has minimum availability'),
      condition(
        'Progressing',
        'False',
        'RolloutAborted',
        'Rollout aborted update to revision 3: Metric "data-consistency" assessed Failed due to failed (1) > failureLimit (0)',
      ),
      condition('Healthy', 'False', 'RolloutHealthy', 'Rollout is not healthy'),
    ],
    currentStepIndex: 0,
    phase: 'Degraded',
    message:
      'RolloutAborted: Rollout aborted update to revision 3: Metric "data-consistency" assessed Failed due to failed (1) > failureLimit (0)',
  },
} as RolloutObject;

/** Degraded without abort: the new pods never became ready before progressDeadlineSeconds. */
export const timedOut: RolloutObject = {
  metadata: metadata(4),
  spec,
  status: {
    ...progressing.status,
    phase: 'Degraded',
    message: 'ProgressDeadlineExceeded: ReplicaSet "tandem-demo-7d5c4f6b89" has timed out progressing.',
  },
} as RolloutObject;

/** The spec was just updated (generation 5) and the controller still shows the previous, Healthy status. */
export const staleGeneration: RolloutObject = { ...healthy, metadata: metadata(5) } as RolloutObject;

/** Healthy phase written for a new spec but the stable ReplicaSet not yet switched (between writes). */
export const notPromoted: RolloutObject = {
  ...healthy,
  status: { ...healthy.status, currentPodHash: '7d5c4f6b89' },
} as RolloutObject;

/** Created a moment ago: no status yet. */
export const noStatus: RolloutObject = { metadata: metadata(1), spec } as RolloutObject;
