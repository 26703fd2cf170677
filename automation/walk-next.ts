/**
 * `tandem walk --to next`: from a finished migration (its contract) to the next migration's
 * baseline, one `pulumi up` that changes only the schema, with every rule of a walk step: no
 * pending operations, the preview checked against hard rule 1 (the finished migration's retained
 * Commands show there as schema deletes), a saved plan, confirmation. Before anything is set, the
 * database must record the finished migration as contracted: Pulumi's history alone could lag it.
 */
import { RefusedError } from '../phases/errors';
import { nextMigrationMove } from '../phases/deploy/next-migration';
import { Gates } from './gates';
import { readStackHistory } from './migration-position';
import { StackDriver } from './stack-driver';
import { ensureNoPendingOperations, runStep, WalkOptions, WalkResult } from './walk';
import { WalkEvent } from './walk-events';
import { withWalkLock } from './walk-lock';

export async function walkToNext(driver: StackDriver, gates: Gates, options: WalkOptions): Promise<WalkResult> {
  const emit = (e: WalkEvent) => options.onEvent?.(e);
  const now = options.now ?? Date.now;
  const stack = driver.stackName;
  return withWalkLock(options.lockDir, stack, async () => {
    const started = now();
    await ensureNoPendingOperations(driver, Boolean(options.recover), emit);
    const history = await readStackHistory(driver, options.projectDir ?? options.lockDir ?? process.cwd());
    if (!history)
      throw new RefusedError(
        `stack ${stack} has no tandem:migrations, so there is no next migration; list the stack's migrations there first`,
      );
    if (!driver.setMigration) throw new RefusedError('this stack driver cannot set tandem:migration');
    const from = await driver.currentStage();
    const step = nextMigrationMove(history, from);
    const live = await gates.schemaStep();
    emit({ event: 'schema-step', step: live.step, detail: live.detail });
    if (live.step !== 'contracted') {
      throw new RefusedError(
        `cannot start ${step.nextMigration}: the database records ${step.migration} as ${live.step}, not contracted (${live.detail}); finish it with \`tandem walk --to contract\``,
        step.migration,
      );
    }
    emit({ event: 'start', stack, from, to: step.to, steps: 1 });
    emit({ event: 'step-start', index: 0, from: step.from, to: step.to, side: step.side });
    await driver.setMigration(step.nextMigration);
    let report;
    try {
      report = await runStep(driver, gates, step, options, emit);
    } catch (err) {
      // runStep put tandem:stage back to contract; the migration goes back with it.
      await driver.setMigration(step.migration).catch(() => undefined);
      throw err;
    }
    emit({ event: 'done', stack, stage: step.to, steps: 1, seconds: (now() - started) / 1000 });
    return { stack, from, to: step.to, steps: [report], migration: step.nextMigration };
  });
}
