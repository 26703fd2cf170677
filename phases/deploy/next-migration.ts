/**
 * The one step between two migrations: from the current migration's contract to the next one's
 * baseline. It changes only the schema side: the finished migration's Commands leave the stack
 * (retained since its contract, so none of their deletes runs) and the next migration's
 * SchemaChange appears, empty; the app keeps running the finished migration's new-only release,
 * which is the next one's old release (phases/deploy/migration-stage.ts). Pure.
 */
import { RefusedError } from '../errors';
import { Stage } from './stages';
import { WalkMove } from './walk-path';

/** Where a stack is in its history, as the walker reads it. */
export interface HistoryPosition {
  readonly names: readonly string[];
  readonly current: number;
}

export interface NextMigrationMove extends WalkMove {
  readonly migration: string;
  readonly nextMigration: string;
}

/** The walk to the next migration is refused: exit 1, nothing applied. Carries the names. */
export class NextMigrationRefusedError extends RefusedError {
  readonly kind = 'next_migration_refused';
  constructor(
    readonly migrationName: string,
    readonly stage: Stage | null,
    message: string,
  ) {
    super(message, migrationName);
    this.name = 'NextMigrationRefusedError';
  }
}

export function nextMigrationMove(history: HistoryPosition, deployed: Stage | null): NextMigrationMove {
  const name = history.names[history.current];
  if (deployed !== 'contract') {
    throw new NextMigrationRefusedError(
      name,
      deployed,
      `cannot start the next migration: ${name} is at ${deployed ?? '(nothing deployed)'}, not contract; finish it first with \`tandem walk --to contract\``,
    );
  }
  const next = history.names[history.current + 1];
  if (next === undefined) {
    throw new NextMigrationRefusedError(
      name,
      deployed,
      `there is no migration after ${name} in tandem:migrations; append the next one (its spec and releases) to the stack's config, then walk --to next`,
    );
  }
  return {
    from: 'contract',
    to: 'baseline',
    direction: 'forward',
    side: 'schema',
    gates: [],
    why: `${name} is finished: its Commands leave the stack without running their deletes, and ${next} starts at baseline on the release ${name} ended with`,
    migration: name,
    nextMigration: next,
  };
}
