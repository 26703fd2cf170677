import { AppVersion, Stage, STAGE_TABLE, STAGES } from '../phases/deploy/stages';
import { Weights } from './phased-traffic';

/** Argo Rollouts' canary steps: the share of traffic the new version gets at each. */
export const CANARY_WEIGHTS = [10, 50, 90, 100] as const;

/** One canary step of a stage the app side changes: the weights and the share the new version gets. */
export interface CanaryStep {
  readonly weights: Weights;
  readonly share: number;
}

/**
 * The canary steps into `stage`, from the stage table: the previous stage's app version hands
 * traffic to this stage's at each canary weight. A stage that changes the schema (or the first)
 * has one step: its app version at 100%.
 */
export function canarySteps(stage: Stage): CanaryStep[] {
  const def = STAGE_TABLE[stage];
  const i = STAGES.indexOf(stage);
  const before: AppVersion | undefined = i > 0 ? STAGE_TABLE[STAGES[i - 1]].app : undefined;
  if (def.changes !== 'app' || before === undefined || before === def.app) return [{ weights: { [def.app]: 100 }, share: 100 }];
  return CANARY_WEIGHTS.map((w) => ({ weights: { [before]: 100 - w, [def.app]: w }, share: w }));
}
