/**
 * The walker's path: which stack states a walk from one stage to another passes through, one
 * adjacent stage per `pulumi up`, never skipping. Pure: the walker, `tandem plan` and the tests
 * all read the path from here.
 */
import { ErrorKind, RefusedError } from '../errors';
import { Side, Stage, STAGES, STAGE_TABLE, sideBetween, stageIndex } from './stages';

/** A live check that must pass before a step's `up` runs. */
export type GateName = 'verify' | 'rollout-healthy';

export type Direction = 'forward' | 'back';

/** One `pulumi up`: from a stage to an adjacent one, or the first deployment of baseline. */
export interface WalkMove {
  /** null: the stack has never been deployed, and this step creates baseline. */
  readonly from: Stage | null;
  readonly to: Stage;
  readonly direction: Direction;
  /**
   * The only side this step may change (hard rule 1). null for the first deployment, which may
   * create resources on both sides (nothing runs yet that they could break) but change nothing.
   */
  readonly side: Side | null;
  /** Checked live, in this order, before the step's `up`. */
  readonly gates: readonly GateName[];
  /** Why the gates are there, in one sentence (for `tandem plan`). */
  readonly why: string;
}

/** A move back that STAGE_TABLE marks unsafe: carries the stages and the table's reason. */
export class UnsafeMoveBackError extends RefusedError {
  readonly kind: ErrorKind = 'unsafe_move_back';
  constructor(
    readonly from: Stage,
    readonly to: Stage,
    readonly reason: string,
  ) {
    super(`cannot walk back from ${from} to ${to}: ${reason}`);
    this.name = 'UnsafeMoveBackError';
  }
}

/**
 * The gates before each forward step. Moves back have none: they are how an operator gets away
 * from a Degraded rollout or a failed verify, so a gate on them would block the escape route.
 */
const FORWARD_GATES: Readonly<Record<Stage, { gates: readonly GateName[]; why: string }>> = {
  baseline: { gates: [], why: 'the first stage' },
  expand: { gates: [], why: 'expand only adds nullable columns and the sync trigger; v1 never sees them' },
  'dual-write': {
    gates: ['verify'],
    why: 'v2 reads the new columns, so every row must be backfilled and consistent first',
  },
  cleanup: {
    gates: ['rollout-healthy'],
    why: 'v3 stops writing the old columns, so v2 must be fully promoted and Healthy first',
  },
  contract: {
    gates: ['rollout-healthy', 'verify'],
    why: 'contract drops the old columns for good, so v3 must be fully promoted and Healthy and the data consistent first',
  },
};

function step(from: Stage, to: Stage): WalkMove {
  const forward = stageIndex(to) > stageIndex(from);
  if (!forward) {
    const { safe, reason } = STAGE_TABLE[from].rollbackToPrevious;
    if (!safe) throw new UnsafeMoveBackError(from, to, reason);
  }
  const { gates, why } = forward
    ? FORWARD_GATES[to]
    : { gates: [], why: `moving back: ${STAGE_TABLE[from].rollbackToPrevious.reason}` };
  return { from, to, direction: forward ? 'forward' : 'back', side: sideBetween(from, to), gates, why };
}

const FIRST_DEPLOYMENT: WalkMove = {
  from: null,
  to: 'baseline',
  direction: 'forward',
  side: null,
  gates: [],
  why: 'the stack has never been deployed: the first up declares the running system (old columns, app v1) and may only create',
};

/**
 * The steps from `from` to `to`, one adjacent stage each; [] when they are the same stage.
 * `from` null (a stack never deployed) starts with the first deployment of baseline.
 * A walk back that would cross a stage whose move back is unsafe (contract) is refused whole,
 * before any step runs, with the table's reason.
 */
export function walkPath(from: Stage | null, to: Stage): WalkMove[] {
  if (from === null) return [FIRST_DEPLOYMENT, ...walkPath('baseline', to)];
  const a = stageIndex(from);
  const b = stageIndex(to);
  const dir = b > a ? 1 : -1;
  const steps: WalkMove[] = [];
  for (let i = a; i !== b; i += dir) steps.push(step(STAGES[i], STAGES[i + dir]));
  return steps;
}
