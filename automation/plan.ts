/**
 * `tandem plan`: the walk to a stage without applying anything: the path, each step's side and
 * gates, and the first step's preview classified (later steps' previews depend on the first
 * being applied, so they cannot be shown truthfully before it is).
 */
import { RefusedError } from '../phases/errors';
import { SideClassifier } from '../phases/deploy/preview-check';
import { Stage } from '../phases/deploy/stages';
import { walkPath, WalkStep } from '../phases/deploy/walk-path';
import { previewStep } from './preview-step';
import { PendingOperation, StackDriver } from './stack-driver';
import { describeChanges } from './walk-events';
import { withWalkLock } from './walk-lock';

export interface PlanStep extends WalkStep {
  /** The first step's preview, classified (later steps depend on the first being applied). */
  readonly preview?: { readonly schema: string[]; readonly app: string[]; readonly neutral: string[] };
  /** Why the first step would be refused, when its preview breaks hard rule 1. */
  readonly refused?: string;
}

export interface PlanResult {
  readonly stack: string;
  readonly from: Stage | null;
  readonly to: Stage;
  readonly steps: readonly PlanStep[];
  readonly pendingOperations: readonly PendingOperation[];
  /** The command that clears them, when there are any. */
  readonly recoveryCommand?: string;
}

export interface PlanOptions {
  readonly to: Stage;
  /** Preview the first step (sets the stage config for the preview and restores it). */
  readonly preview?: boolean;
  readonly lockDir?: string;
  readonly classify?: SideClassifier;
}

/** The path and each step's side and gates, without applying anything. */
export async function plan(driver: StackDriver, options: PlanOptions): Promise<PlanResult> {
  const stack = driver.stackName;
  const pendingOperations = await driver.pendingOperations();
  const from = await driver.currentStage();
  const path: PlanStep[] = walkPath(from, options.to);
  const result = {
    stack,
    from,
    to: options.to,
    steps: path,
    pendingOperations,
    recoveryCommand: pendingOperations.length > 0 ? driver.recoveryCommand() : undefined,
  };
  if (!options.preview || path.length === 0 || pendingOperations.length > 0) return result;
  const first = path[0];
  return withWalkLock(options.lockDir, stack, async () => {
    try {
      const { changes } = await previewStep(driver, first, options.classify);
      path[0] = { ...first, preview: describeChanges(changes) };
    } catch (err: any) {
      if (!(err instanceof RefusedError)) throw err;
      path[0] = { ...first, refused: err.message };
    } finally {
      if (first.from !== null) await driver.setStage(first.from);
    }
    return result;
  });
}
