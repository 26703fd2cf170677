import { RefusedError } from '../phases/errors';
import { objectRollbackPlan, objectSteps, rollbackPlan } from '../phases/sql/plan';
import { MigrationSpec } from '../phases/sql/spec';
import { runDdlTransaction } from './ddl-transaction';
import { openSession, ACTIVE_STEPS } from './session';
import { recordStep } from './state';
import { RollbackOptions, StepResult } from './types';
import { runObjectSteps } from './object-steps';
import { describeLosses, rollbackLosses } from './rollback-loss';

/**
 * Rollback undoes expand exactly, in ONE transaction: what expand added goes, nothing else. The old
 * columns hold every write (old writers' as written, new writers' through `down`). Refused after contract.
 */
export async function rollback(spec: MigrationSpec, options: RollbackOptions): Promise<StepResult> {
  const session = await openSession(spec, options, { lock: true });
  try {
    const base = { migration: spec.name, table: session.label };
    if (session.step === 'contracted') {
      throw new RefusedError(
        `rollback refused: ${spec.name} is contracted, the old columns of ${session.label} are gone and cannot be brought back`,
        spec.name,
      );
    }
    if (!session.state || !ACTIVE_STEPS.includes(session.step)) {
      return {
        ...base,
        step: session.step,
        changed: false,
        message: 'nothing to roll back: not expanded',
        lockRetries: 0,
      };
    }
    const resolved = session.state.resolved;
    // Everything the new versions wrote that dropping the new columns (and created tables) would lose.
    const losses = await rollbackLosses(session.client, resolved);
    const warnings: string[] = [];
    if (losses.length) {
      const what = describeLosses(losses);
      if (!options.force) {
        throw new RefusedError(
          `rollback refused: it would not give back what the new version wrote: ${what}; rolling back drops those writes. Fix those rows (tandem repair, or rewrite them), or run tandem rollback --force to accept the loss`,
          spec.name,
        );
      }
      warnings.push(`--force: dropped what the new version wrote: ${what}`);
      options.onProgress?.({ kind: 'info', message: `warning: ${warnings[0]}` });
    }
    // Indexes the spec built go first, concurrently (no write waits on them); then one transaction.
    const dropped = await runObjectSteps(
      session.client,
      'rollback',
      { oid: session.table.oid, label: session.label },
      objectSteps(resolved, 'beforeRollback'),
      options,
    );
    const run = await runDdlTransaction(
      session.client,
      'rollback',
      { oid: session.table.oid, label: session.label },
      [...objectRollbackPlan(resolved), ...rollbackPlan(resolved)],
      options,
      async (c) => {
        await recordStep(c, spec.name, 'rolled_back');
        await c.query(
          `UPDATE tandem.migrations SET backfill_last_key = NULL, backfill_bound = NULL, backfill_done = 0 WHERE name = $1`,
          [spec.name],
        );
      },
    );
    return {
      ...base,
      step: 'rolled_back',
      changed: true,
      message: `rolled back ${session.label}: the table is as it was before expand${warnings.length ? ', except for the new-version writes --force dropped' : ''}`,
      lockRetries: dropped.retries + run.retries,
      ...(warnings.length ? { warnings } : {}),
    };
  } finally {
    await session.close();
  }
}
