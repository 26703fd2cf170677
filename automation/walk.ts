/**
 * The walker: moves a stack from the stage it is in to the stage asked for, one adjacent stage
 * per `pulumi up`, never skipping. Each step: set the stage, preview (saving an update plan),
 * refuse the step if the preview changes both sides or the wrong one, pass the gates, confirm,
 * then up with the plan so the update does exactly what was checked. Pure orchestration over
 * the StackDriver seam.
 */
import { RefusedError } from '../phases/errors';
import { checkPreview, ClassifiedChanges, SideClassifier } from '../phases/preview-check';
import { Stage } from '../phases/stages';
import { GateName, walkPath, WalkStep } from '../phases/walk-path';
import { GateOutcome, Gates } from './gates';
import { PendingOperation, StackDriver } from './stack-driver';
import { GateFailedError, PendingOperationsError } from './walk-errors';
import { describeChanges, WalkEvent } from './walk-events';
import { acquireWalkLock, WalkLock } from './walk-lock';

export interface WalkOptions {
  readonly to: Stage;
  /** Apply without asking. Without it, `confirm` is asked before each up. */
  readonly yes?: boolean;
  /** Asked before each step's up, after its preview and gates passed. */
  readonly confirm?: (step: WalkStep, changes: ClassifiedChanges) => Promise<boolean>;
  /** Clear operations an interrupted update left pending (refresh --clear-pending-creates) before walking. */
  readonly recover?: boolean;
  /** Take the one-walker-per-stack lock file under this directory's .tandem/ (the project directory). */
  readonly lockDir?: string;
  readonly onEvent?: (event: WalkEvent) => void;
  readonly classify?: SideClassifier;
  readonly now?: () => number;
}

export interface StepReport {
  readonly from: Stage | null;
  readonly to: Stage;
  readonly seconds: number;
  readonly resourceChanges: Readonly<Record<string, number>>;
}

export interface WalkResult {
  readonly stack: string;
  readonly from: Stage | null;
  readonly to: Stage;
  readonly steps: readonly StepReport[];
}

const GATE_METHOD: Readonly<Record<GateName, keyof Gates>> = { verify: 'verify', 'rollout-healthy': 'rolloutHealthy' };

async function withLock<T>(lockDir: string | undefined, stack: string, fn: () => Promise<T>): Promise<T> {
  const lock: WalkLock | undefined = lockDir ? acquireWalkLock(lockDir, stack) : undefined;
  try {
    return await fn();
  } finally {
    lock?.release();
  }
}

async function ensureNoPendingOperations(driver: StackDriver, recover: boolean, emit: (e: WalkEvent) => void): Promise<void> {
  const pending: PendingOperation[] = await driver.pendingOperations();
  if (pending.length === 0) return;
  if (!recover) throw new PendingOperationsError(driver.stackName, pending, driver.recoveryCommand());
  await driver.recoverPendingOperations();
  const left = await driver.pendingOperations();
  if (left.length > 0) throw new PendingOperationsError(driver.stackName, left, driver.recoveryCommand());
  emit({ event: 'recovered', stack: driver.stackName, pendingOperations: pending.length });
}

/** Set the step's stage and preview it; restores the previous stage if the check refuses. */
async function previewStep(driver: StackDriver, step: WalkStep, classify?: SideClassifier) {
  await driver.setStage(step.to);
  const preview = await driver.preview();
  return { preview, changes: checkPreview(step, preview.changes, classify) };
}

export async function walk(driver: StackDriver, gates: Gates, options: WalkOptions): Promise<WalkResult> {
  const now = options.now ?? Date.now;
  const emit = (e: WalkEvent) => options.onEvent?.(e);
  const stack = driver.stackName;
  if (!options.yes && !options.confirm) throw new RefusedError('the walk applies changes: confirm each step, or pass yes to apply without asking');
  return withLock(options.lockDir, stack, async () => {
    const started = now();
    await ensureNoPendingOperations(driver, Boolean(options.recover), emit);
    const from = await driver.currentStage();
    const path = walkPath(from, options.to);
    if (path.length === 0) {
      emit({ event: 'nothing-to-do', stack, stage: options.to });
      return { stack, from, to: options.to, steps: [] };
    }
    emit({ event: 'start', stack, from, to: options.to, steps: path.length });
    const reports: StepReport[] = [];
    for (const [index, step] of path.entries()) {
      const stepStarted = now();
      emit({ event: 'step-start', index, from: step.from, to: step.to, side: step.side });
      try {
        const { preview, changes } = await previewStep(driver, step, options.classify);
        emit({ event: 'preview', from: step.from, to: step.to, ...describeChanges(changes), plan: Boolean(preview.planFile) });
        for (const gate of step.gates) {
          const outcome: GateOutcome = await gates[GATE_METHOD[gate]](step);
          emit({ event: 'gate', gate, from: step.from, to: step.to, ok: outcome.ok, detail: outcome.detail });
          if (!outcome.ok) throw new GateFailedError(gate, step.from, step.to, outcome.detail, outcome.next ?? 'Fix it and run the walk again.');
        }
        if (!options.yes && !(await options.confirm!(step, changes))) {
          throw new RefusedError(`stopped before ${step.from ?? '(nothing deployed)'} -> ${step.to}: not confirmed; the stack stays at ${step.from ?? 'nothing deployed'}`);
        }
        const up = await driver.up({
          planFile: preview.planFile,
          onEvent: (e) => emit({ event: 'resource', to: step.to, ...e }),
        });
        const seconds = (now() - stepStarted) / 1000;
        emit({ event: 'step-done', from: step.from, to: step.to, seconds, resourceChanges: up.resourceChanges });
        reports.push({ from: step.from, to: step.to, seconds, resourceChanges: up.resourceChanges });
      } catch (err) {
        // Nothing of this step is deployed (or the up failed part way): the stack's config goes
        // back to the stage it is in, so the next walk starts this step again.
        // (If even that fails, the step's own error is the one to report.)
        if (step.from !== null) await driver.setStage(step.from).catch(() => undefined);
        throw err;
      }
    }
    emit({ event: 'done', stack, stage: options.to, steps: reports.length, seconds: (now() - started) / 1000 });
    return { stack, from, to: options.to, steps: reports };
  });
}

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
  return withLock(options.lockDir, stack, async () => {
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
