/**
 * The walker: moves a stack from the stage it is in to the stage asked for, one adjacent stage
 * per `pulumi up`, never skipping. Each step: set the stage, preview (saving an update plan),
 * refuse the step if the preview changes both sides or the wrong one, pass the gates, confirm,
 * then up with the plan, so the update cannot do more than was planned (the engine checks each resource against the plan as it goes); after an app step's up, wait
 * for its canary to end fully promoted and Healthy. A walk back first asks the database whether
 * the migration is already contracted. Pure orchestration over the StackDriver seam.
 */
import { RefusedError } from '../phases/errors';
import { ClassifiedChanges, SideClassifier } from '../phases/deploy/preview-check';
import { Stage } from '../phases/deploy/stages';
import { GateName, walkPath, WalkMove } from '../phases/deploy/walk-path';
import { GateOutcome, Gates } from './gates';
import { PendingOperation, StackDriver, UpOutcome } from './stack-driver';
import {
  ClusterNotReadyError,
  GateFailedError,
  PendingOperationsError,
  RolloutNotSettledError,
  SchemaContractedError,
} from './walk-errors';
import { describeChanges, WalkEvent } from './walk-events';
import { previewStep } from './preview-step';
import { withWalkLock } from './walk-lock';
import { walkToNext } from './walk-next';

export interface WalkOptions {
  /** A stage of the current migration, or `next`: from its contract to the next migration's baseline (automation/walk-next.ts). */
  readonly to: Stage | 'next';
  /** Apply without asking. Without it, `confirm` is asked before each up. */
  readonly yes?: boolean;
  /** Asked before each step's up, after its preview and gates passed. */
  readonly confirm?: (step: WalkMove, changes: ClassifiedChanges) => Promise<boolean>;
  /** Resolve operations an interrupted update left pending (import what exists, clear the rest) before walking. */
  readonly recover?: boolean;
  /** Take the one-walker-per-stack lock file under this directory's .tandem/ (the project directory). */
  readonly lockDir?: string;
  /** Where the stack's spec files are resolved (default: lockDir, then the working directory). */
  readonly projectDir?: string;
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
  /** After `--to next`: the migration the stack is now at. */
  readonly migration?: string;
  readonly steps: readonly StepReport[];
}

const GATE_METHOD: Readonly<Record<GateName, 'verify' | 'rolloutHealthy'>> = {
  verify: 'verify',
  'rollout-healthy': 'rolloutHealthy',
};

export async function ensureNoPendingOperations(
  driver: StackDriver,
  recover: boolean,
  emit: (e: WalkEvent) => void,
): Promise<void> {
  const pending: PendingOperation[] = await driver.pendingOperations();
  if (pending.length === 0) return;
  if (!recover) throw new PendingOperationsError(driver.stackName, pending, driver.recoveryCommand());
  await driver.recoverPendingOperations();
  const left = await driver.pendingOperations();
  if (left.length > 0) throw new PendingOperationsError(driver.stackName, left, driver.recoveryCommand());
  emit({ event: 'recovered', stack: driver.stackName, pendingOperations: pending.length });
}

/**
 * Before a walk back: the stage table allows every move back before contract, but Pulumi's history
 * can lag the database (a contract up interrupted after its DDL committed). Ask the database, and
 * refuse the whole walk, before anything runs, when the migration is contracted.
 */
async function ensureNotContracted(
  gates: Gates,
  stack: string,
  first: WalkMove,
  emit: (e: WalkEvent) => void,
): Promise<void> {
  if (first.direction !== 'back' || first.from === null) return;
  const live = await gates.schemaStep();
  emit({ event: 'schema-step', step: live.step, detail: live.detail });
  if (live.step === 'contracted') throw new SchemaContractedError(stack, first.from, first.to, live.detail);
}

/**
 * Preview, check hard rule 1, gates, confirm, up with the preview's plan. When any of it fails,
 * nothing of the step is deployed (or the up failed part way): the stack's config goes back to
 * the stage it is in, so the next walk starts this step again (if even that fails, the step's own
 * error is the one to report).
 */
async function applyStep(
  driver: StackDriver,
  gates: Gates,
  step: WalkMove,
  options: WalkOptions,
  emit: (e: WalkEvent) => void,
): Promise<UpOutcome> {
  try {
    return await previewGateUp(driver, gates, step, options, emit);
  } catch (err) {
    if (step.from !== null) await driver.setStage(step.from).catch(() => undefined);
    throw err;
  }
}

async function previewGateUp(
  driver: StackDriver,
  gates: Gates,
  step: WalkMove,
  options: WalkOptions,
  emit: (e: WalkEvent) => void,
): Promise<UpOutcome> {
  const { preview, changes } = await previewStep(driver, step, options.classify);
  emit({
    event: 'preview',
    from: step.from,
    to: step.to,
    ...describeChanges(changes),
    plan: Boolean(preview.planFile),
  });
  for (const gate of step.gates) {
    const outcome: GateOutcome = await gates[GATE_METHOD[gate]](step);
    emit({ event: 'gate', gate, from: step.from, to: step.to, ok: outcome.ok, detail: outcome.detail });
    if (!outcome.ok)
      throw new GateFailedError(
        gate,
        step.from,
        step.to,
        outcome.detail,
        outcome.next ?? 'Fix it and run the walk again.',
      );
  }
  if (!preview.planFile) {
    throw new RefusedError(
      `refused step ${step.from ?? '(nothing deployed)'} -> ${step.to}: the preview saved no update plan, so the up could do something other than what was checked; ` +
        'use a pulumi CLI that supports `preview --save-plan` and run the walk again',
    );
  }
  if (!options.yes && !(await options.confirm!(step, changes))) {
    throw new RefusedError(
      `stopped before ${step.from ?? '(nothing deployed)'} -> ${step.to}: not confirmed; the stack stays at ${step.from ?? 'nothing deployed'}`,
    );
  }
  return driver.up({ planFile: preview.planFile, onEvent: (e) => emit({ event: 'resource', to: step.to, ...e }) });
}

/**
 * After an app step's up (and the first deployment's): the Rollout carries pulumi.com/skipAwait,
 * so the up returns once the spec is applied, and the walker waits for the canary itself, bounded
 * by its own wait (a Rollout that was Degraded or mid-canary never blocks the up).
 * The up is applied: whatever the outcome, the stack is at step.to.
 */
async function settleRollout(gates: Gates, step: WalkMove, emit: (e: WalkEvent) => void): Promise<void> {
  const outcome = await gates.rolloutSettled(step);
  emit({ event: 'rollout', from: step.from, to: step.to, ok: outcome.ok, detail: outcome.detail });
  if (!outcome.ok)
    throw new RolloutNotSettledError(
      step.from,
      step.to,
      outcome.detail,
      outcome.next ?? 'Check the Rollout, then run the walk again.',
    );
}

/** One step: apply it (preview, check, gates, confirm, up); for an app step, wait for its canary. */
export async function runStep(
  driver: StackDriver,
  gates: Gates,
  step: WalkMove,
  options: WalkOptions,
  emit: (e: WalkEvent) => void,
): Promise<StepReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const up = await applyStep(driver, gates, step, options, emit);
  // The first deployment creates the Rollout: the up does not wait for it (skipAwait), the walker does.
  if (step.side === 'app' || step.from === null) await settleRollout(gates, step, emit);
  const seconds = (now() - started) / 1000;
  emit({ event: 'step-done', from: step.from, to: step.to, seconds, resourceChanges: up.resourceChanges });
  return { from: step.from, to: step.to, seconds, resourceChanges: up.resourceChanges };
}

/** Before the first up: the namespace (and whatever else the stack needs but does not create) is there. */
async function ensureClusterReady(gates: Gates, stack: string): Promise<void> {
  const outcome = await gates.clusterReady?.();
  if (outcome && !outcome.ok)
    throw new ClusterNotReadyError(
      stack,
      outcome.detail,
      outcome.next ?? 'Prepare the cluster, then run the walk again.',
    );
}

export async function walk(driver: StackDriver, gates: Gates, options: WalkOptions): Promise<WalkResult> {
  const now = options.now ?? Date.now;
  const emit = (e: WalkEvent) => options.onEvent?.(e);
  const stack = driver.stackName;
  if (!options.yes && !options.confirm)
    throw new RefusedError('the walk applies changes: confirm each step, or pass yes to apply without asking');
  const to = options.to;
  if (to === 'next') return walkToNext(driver, gates, options);
  return withWalkLock(options.lockDir, stack, async () => {
    const started = now();
    await ensureNoPendingOperations(driver, Boolean(options.recover), emit);
    const from = await driver.currentStage();
    const path = walkPath(from, to);
    if (path.length === 0) {
      emit({ event: 'nothing-to-do', stack, stage: to });
      return { stack, from, to, steps: [] };
    }
    await ensureNotContracted(gates, stack, path[0], emit);
    if (from === null) await ensureClusterReady(gates, stack);
    emit({ event: 'start', stack, from, to, steps: path.length });
    const reports: StepReport[] = [];
    for (const [index, step] of path.entries()) {
      emit({ event: 'step-start', index, from: step.from, to: step.to, side: step.side });
      reports.push(await runStep(driver, gates, step, options, emit));
    }
    emit({ event: 'done', stack, stage: to, steps: reports.length, seconds: (now() - started) / 1000 });
    return { stack, from, to, steps: reports };
  });
}
