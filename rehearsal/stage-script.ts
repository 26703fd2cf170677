import { defaultCanarySteps } from '../phases/deploy/canary-steps';
import { AppVersion, SchemaState, Side, STAGE_TABLE, STAGES } from '../phases/deploy/stages';
import { Weights } from './phased-traffic';

/** The app Rollout's default canary weights (10, 50, 90, 100): the share of traffic the new version gets at each. */
export const CANARY_WEIGHTS: readonly number[] = defaultCanarySteps().flatMap((s) =>
  'setWeight' in s ? [s.setWeight] : [],
);

/** One canary step of a stage the app side changes: the weights and the share the new version gets. */
export interface TrafficSplit {
  readonly weights: Weights;
  readonly share: number;
}

/** What the rehearsal needs of a stage of the stage table. */
export interface ScriptStage {
  readonly stage: string;
  readonly schema: SchemaState;
  readonly app: AppVersion;
  readonly changes?: Side;
}

/**
 * One scripted step of the rehearsal: the first stage runs its app version alone; a stage that
 * changes the schema runs expand (and its backfill) or contract under its app version; a stage that
 * changes the app hands traffic from the previous stage's version to its own, canary step by step.
 */
export type ScriptStep =
  | { readonly kind: 'baseline'; readonly stage: string; readonly app: AppVersion }
  | { readonly kind: 'expand'; readonly stage: string; readonly app: AppVersion }
  | { readonly kind: 'contract'; readonly stage: string; readonly app: AppVersion }
  | {
      readonly kind: 'canary';
      readonly stage: string;
      readonly app: AppVersion;
      readonly from: AppVersion;
      readonly steps: readonly TrafficSplit[];
    };

/** The stage table in order, as the rehearsal reads it. */
export const STAGE_SCRIPT_SOURCE: readonly ScriptStage[] = STAGES.map((s) => STAGE_TABLE[s]);

/**
 * The rehearsal's script, from the stage table alone: adding or changing a stage there changes the
 * rehearsal, and nothing else has to.
 */
export function rehearsalScript(stages: readonly ScriptStage[] = STAGE_SCRIPT_SOURCE): ScriptStep[] {
  return stages.map((def, i): ScriptStep => {
    const before = i > 0 ? stages[i - 1].app : undefined;
    if (def.changes === undefined) return { kind: 'baseline', stage: def.stage, app: def.app };
    if (def.changes === 'app') {
      if (before === undefined)
        throw new Error(
          `the stage table's first stage ${def.stage} changes the app: there is no version to hand traffic from`,
        );
      return { kind: 'canary', stage: def.stage, app: def.app, from: before, steps: canaryWeights(before, def.app) };
    }
    if (def.schema === 'expanded') return { kind: 'expand', stage: def.stage, app: def.app };
    if (def.schema === 'contracted') return { kind: 'contract', stage: def.stage, app: def.app };
    throw new Error(`the rehearsal has no step into the ${def.schema} schema of ${def.stage}`);
  });
}

/** The previous version hands traffic to the next at each canary weight (one step at 100% if they are the same). */
function canaryWeights(from: AppVersion, to: AppVersion): TrafficSplit[] {
  if (from === to) return [{ weights: { [to]: 100 }, share: 100 }];
  return CANARY_WEIGHTS.map((w) => ({ weights: { [from]: 100 - w, [to]: w }, share: w }));
}

/** The canary steps into `stage` of the stage table (one step at its version's 100% unless it changes the app). */
export function canarySteps(stage: string): TrafficSplit[] {
  const step = rehearsalScript().find((s) => s.stage === stage);
  if (!step) throw new Error(`no stage ${stage} in the stage table`);
  return step.kind === 'canary' ? [...step.steps] : [{ weights: { [step.app]: 100 }, share: 100 }];
}
