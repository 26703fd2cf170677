/**
 * The stage planner for a stack with many migrations: what one stack state declares, as data,
 * given the current migration (its index in the history) and its stage. The components map this
 * onto resources; the walker and the tests read the same plan.
 *
 * The lifecycle of a migration's Commands (docs/architecture.md, "Many migrations, one stack"):
 *  - From expand to cleanup they are declared as always (expand's delete is a rollback: a move back
 *    to baseline undoes expand).
 *  - Contract declares ALL of them with retainOnDelete. Contract is a schema step, so flipping the
 *    option there is on the right side whichever way the engine reports it (a changed option is a
 *    state-only change: the preview shows the Command as `same`); and it is in the state BEFORE any
 *    later step stops declaring them. It also rides with real writes: the engine may elide the
 *    checkpoint of a `same` step whose inputs did not change (its snapshot manager's mustWrite
 *    does not look at retainOnDelete), but the same update then creates the verify and contract
 *    Commands, whose checkpoints carry every state the update has recorded, the flipped ones
 *    included. A move back from contract is refused anyway.
 *  - The next migration's baseline stops declaring them: the engine removes them from the state
 *    without running their deletes (a preview lists them as deletes; they are schema resources, and
 *    the only deletes a forward step may have). That step also declares the next migration's (empty)
 *    SchemaChange: schema only.
 *  - The app side follows the releases: at baseline and expand of migration N+1 it is exactly the
 *    app side of N's contract (N's new-only release is N+1's old one; the verify Job still carries
 *    N's spec); the spec switches to N+1's with N+1's dual-write release, in an app step.
 */
import { TandemError } from '../errors';
import { ReleaseKind, KIND_OF_VERSION, VERSION_OF_KIND } from './releases';
import { SCHEMA_COMMANDS, SchemaCommandStep } from './stack-state';
import { AppVersion, SchemaState, Stage, STAGE_TABLE } from './stages';

export interface MigrationPosition {
  /** The current migration's index in the history (0-based). */
  readonly migration: number;
  readonly stage: Stage;
}

/** A migration's SchemaChange as one stack state declares it. */
export interface DeclaredSchemaChange {
  readonly migration: number;
  readonly commands: readonly SchemaCommandStep[];
  /** The Commands leave the stack without running their deletes (set from the migration's contract on). */
  readonly retainOnDelete: boolean;
}

export interface AppSide {
  /** Whose releases and spec the app side shows. */
  readonly migration: number;
  readonly role: ReleaseKind;
  /** The role's alias (v1, v2, v3): the Rollout's version label and the verify Job's argument. */
  readonly version: AppVersion;
}

export type MigrationStatus = 'finished' | 'current' | 'planned';

export interface MigrationStagePlan {
  readonly position: MigrationPosition;
  /** The current migration's schema state. */
  readonly schemaState: SchemaState;
  /** The SchemaChanges this stack state declares (only the current migration's). */
  readonly schemaChanges: readonly DeclaredSchemaChange[];
  readonly app: AppSide;
  /** Every migration's status, in history order. */
  readonly statuses: readonly MigrationStatus[];
}

/** A position outside the history. */
export class MigrationPositionError extends TandemError {
  readonly kind = 'migration_position';
  readonly exitCode = 2;
  constructor(
    readonly migration: number,
    readonly count: number,
  ) {
    super(`migration ${migration} is not in a history of ${count}`);
    this.name = 'MigrationPositionError';
  }
}

export function planMigrationStage(count: number, position: MigrationPosition): MigrationStagePlan {
  const { migration, stage } = position;
  if (!Number.isInteger(migration) || migration < 0 || migration >= count)
    throw new MigrationPositionError(migration, count);
  const row = STAGE_TABLE[stage];
  const inheritsApp = migration > 0 && row.app === 'v1';
  const app: AppSide = inheritsApp
    ? { migration: migration - 1, role: 'new', version: VERSION_OF_KIND.new }
    : { migration, role: KIND_OF_VERSION[row.app], version: row.app };
  return {
    position,
    schemaState: row.schema,
    schemaChanges: [{ migration, commands: SCHEMA_COMMANDS[row.schema], retainOnDelete: row.schema === 'contracted' }],
    app,
    statuses: Array.from({ length: count }, (_, i) =>
      i < migration ? 'finished' : i === migration ? 'current' : 'planned',
    ),
  };
}

/** Every position of a history in walk order: each migration's five stages, one after another. */
export function allPositions(count: number): MigrationPosition[] {
  const stages: Stage[] = ['baseline', 'expand', 'dual-write', 'cleanup', 'contract'];
  return Array.from({ length: count }, (_, m) => stages.map((stage) => ({ migration: m, stage }))).flat();
}
