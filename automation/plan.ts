/**
 * `tandem plan`: the walk to a stage without applying anything: the path, each step's side and
 * gates, and the first step's preview classified (later steps' previews depend on the first
 * being applied, so they cannot be shown truthfully before it is).
 */
import { RefusedError } from '../phases/errors';
import { SideClassifier } from '../phases/deploy/preview-check';
import { Stage } from '../phases/deploy/stages';
import { walkPath, WalkMove } from '../phases/deploy/walk-path';
import { previewStep } from './preview-step';
import { PendingOperation, StackDriver } from './stack-driver';
import { describeChanges } from './walk-events';
import { withWalkLock } from './walk-lock';
import { readStackHistory, StackHistory } from './migration-position';
import { resolve as pathResolve } from 'path';
import { CONFIG_DEFAULTS } from '../phases/deploy/stack-config';
import { landingFollowUp } from '../phases/sql/landing';
import { loadSpecFile } from '../executor/spec-file';
import { nextMigrationMove } from '../phases/deploy/next-migration';
import {} from '../phases/error-fields';

export interface PlanStep extends WalkMove {
  /** The first step's preview, classified (later steps depend on the first being applied). */
  readonly preview?: { readonly schema: string[]; readonly app: string[]; readonly neutral: string[] };
  /** Why the first step would be refused, when its preview breaks hard rule 1. */
  readonly refused?: string;
}

/** Where the stack is in its history of migrations (absent without tandem:migrations). */
export interface PlanMigration {
  readonly current: string;
  /** 1-based, of `count`. */
  readonly number: number;
  readonly count: number;
  /** The migration `walk --to next` would start after this one's contract; null when it is the last. */
  readonly next: string | null;
}

export interface PlanResult {
  readonly stack: string;
  readonly from: Stage | null;
  readonly to: Stage;
  readonly migration?: PlanMigration;
  readonly steps: readonly PlanStep[];
  readonly pendingOperations: readonly PendingOperation[];
  /** The command that clears them, when there are any. */
  readonly recoveryCommand?: string;
  /** The second migration the current one needs to land its columns on their old names (landing.ts), when it needs one. */
  readonly followUp?: string;
}

export interface PlanOptions {
  /** A stage of the current migration, or `next` (the step to the next migration's baseline). */
  readonly to: Stage | 'next';
  /** Where spec files are resolved (default: lockDir, then the working directory). */
  readonly projectDir?: string;
  /** Preview the first step (sets the stage config for the preview and restores it). */
  readonly preview?: boolean;
  readonly lockDir?: string;
  readonly classify?: SideClassifier;
}

/** The current migration's spec's follow-up (a spec that cannot be read says nothing here: the walk's own checks name it). */
async function currentFollowUp(
  driver: StackDriver,
  history: StackHistory | undefined,
  projectDir: string,
): Promise<{ followUp?: string }> {
  try {
    const file = history
      ? history.specPaths[history.current]
      : pathResolve(projectDir, (await driver.config('tandem:spec')) ?? CONFIG_DEFAULTS.spec);
    const followUp = landingFollowUp(loadSpecFile(file));
    return followUp ? { followUp } : {};
  } catch {
    return {};
  }
}

/** The path and each step's side and gates, without applying anything. */
export async function plan(driver: StackDriver, options: PlanOptions): Promise<PlanResult> {
  const stack = driver.stackName;
  const pendingOperations = await driver.pendingOperations();
  const from = await driver.currentStage();
  const history = await readStackHistory(driver, options.projectDir ?? options.lockDir ?? process.cwd());
  const migration: PlanMigration | undefined = history && {
    current: history.names[history.current],
    number: history.current + 1,
    count: history.names.length,
    next: history.names[history.current + 1] ?? null,
  };
  const toNext = options.to === 'next';
  if (toNext && !history)
    throw new RefusedError(`stack ${stack} has no tandem:migrations, so there is no next migration`);
  const nextStep = toNext ? nextMigrationMove(history!, from) : undefined;
  const path: PlanStep[] = nextStep ? [nextStep] : walkPath(from, options.to as Stage);
  const result = {
    stack,
    from,
    to: path.length ? path[path.length - 1].to : (options.to as Stage),
    ...(migration ? { migration } : {}),
    steps: path,
    pendingOperations,
    recoveryCommand: pendingOperations.length > 0 ? driver.recoveryCommand() : undefined,
    ...(await currentFollowUp(driver, history, options.projectDir ?? options.lockDir ?? process.cwd())),
  };
  if (!options.preview || path.length === 0 || pendingOperations.length > 0) return result;
  const first = path[0];
  return withWalkLock(options.lockDir, stack, async () => {
    try {
      if (nextStep) await driver.setMigration?.(nextStep.nextMigration);
      const { changes } = await previewStep(driver, first, options.classify);
      path[0] = { ...first, preview: describeChanges(changes) };
    } catch (err) {
      if (!(err instanceof RefusedError)) throw err;
      path[0] = { ...first, refused: err.message };
    } finally {
      if (first.from !== null) await driver.setStage(first.from);
      if (nextStep) await driver.setMigration?.(nextStep.migration);
    }
    return result;
  });
}
