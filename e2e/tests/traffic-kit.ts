/**
 * The demo app's traffic in the end-to-end tests: the write ledger's checks between stages, and
 * the canary weights followed as the Rollout's status shows them while something else (the test's
 * own apply and gate, or `tandem walk`) moves the stage.
 */
import { Queryable } from '../../app/customer-store';
import { VERSION_LABEL } from '../../phases/deploy/rollout-spec';
import { AppVersion } from '../../phases/deploy/stages';
import { checkTable, compareWrites, Mismatch } from '../../rehearsal/consistency-check';
import { DemoShape } from '../../rehearsal/demo-shape';
import { TrafficGenerator, Weights } from '../../rehearsal/traffic';
import { WriteLedger } from '../../rehearsal/write-ledger';
import { KubeClient } from '../kube';
import { canaryWeight, getRollout, sleep } from './e2e-kit';

export interface LedgerCheck {
  readonly admin: Queryable;
  readonly shape: DemoShape;
  readonly ledger: WriteLedger;
  readonly traffic: TrafficGenerator;
  /** Where every read or table row that did not show its write is collected. */
  readonly mismatches: Mismatch[];
}

/** Pause the traffic, compare every read so far and the whole table with the ledger, then resume at `resume` in `stage`. */
export async function checkLedger(
  c: LedgerCheck,
  label: string,
  newColumnsFilled: boolean,
  resume: Weights,
  stage: string,
): Promise<void> {
  await c.traffic.shift('(checking)', {});
  c.mismatches.push(
    ...(await compareWrites(
      c.admin,
      c.shape,
      c.traffic.takeReads(),
      (r) => `read by ${r.old ? 'v1' : 'v2/v3'} during ${label}`,
    )),
  );
  c.mismatches.push(...(await checkTable(c.admin, c.shape, c.ledger, label, newColumnsFilled)).mismatches);
  await c.traffic.shift(stage, resume);
}

/**
 * Route the traffic at the canary weight the Rollout's status shows (the old version gets the
 * rest) until `done()` says the stage is over; then everything to the new version. Only a status
 * the controller computed for the current spec, whose pod template is `newV`'s, counts. Returns
 * the weights seen, in order.
 */
export async function followCanary(
  k: KubeClient,
  rollout: { app: string; namespace: string },
  traffic: TrafficGenerator,
  stage: string,
  versions: { old: AppVersion; new: AppVersion },
  done: () => boolean,
): Promise<number[]> {
  const weights: number[] = [];
  let last = -1;
  while (!done()) {
    const ro = await getRollout(k, rollout).catch(() => undefined);
    const current =
      ro &&
      ro.status?.observedGeneration !== undefined &&
      String(ro.status.observedGeneration) === String(ro.metadata?.generation);
    if (current && ro.spec?.template?.metadata?.labels?.[VERSION_LABEL] === versions.new) {
      const w = canaryWeight(ro);
      if (w !== last) {
        last = w;
        weights.push(w);
        await traffic.shift(stage, w >= 100 ? { [versions.new]: 100 } : { [versions.old]: 100 - w, [versions.new]: w });
      }
    }
    await sleep(250);
  }
  await traffic.shift(stage, { [versions.new]: 100 });
  return weights;
}

/** Run `move` (one stage's move) while the traffic follows its canary; the move's result and the weights seen. */
export async function underCanary<T>(
  k: KubeClient,
  rollout: { app: string; namespace: string },
  traffic: TrafficGenerator,
  stage: string,
  versions: { old: AppVersion; new: AppVersion },
  move: () => Promise<T>,
): Promise<{ result: T; weights: number[] }> {
  let finished = false;
  const moving = move().finally(() => (finished = true));
  const weights = await followCanary(k, rollout, traffic, stage, versions, () => finished);
  return { result: await moving, weights };
}
