import { backfillRangeSql, backfillRevisitSql, backfillSweepSql, contractPlan, expandPlan, rollbackPlan, validateChecksPlan, PlanStatement } from '../phases/sql/plan';
import { objectContractPlan, objectExpandPlan, objectRollbackPlan, objectSteps, objectStepsScript } from '../phases/sql/plan';
import { MigrationSpec } from '../phases/sql/spec';
import { DEFAULT_LOCK_HOLD_MS, DEFAULT_LOCK_TIMEOUT_MS, transactionBounds } from './ddl-transaction';
import { sessionSettingsScript } from './evaluation-settings';
import { openSession } from './session';
import { ExecutorOptions } from './types';
import { resolveLive } from './validate-live';

export const SQL_STEPS = ['expand', 'backfill', 'contract', 'rollback'] as const;
export type SqlStep = (typeof SQL_STEPS)[number];

function script(title: string, statements: PlanStatement[], transaction: boolean, options: ExecutorOptions): string {
  const body = statements.map((s) => `-- ${s.id}\n${s.sql};`).join('\n\n');
  const bounds = transactionBounds(options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, options.lockHoldMs ?? DEFAULT_LOCK_HOLD_MS)
    .map((b) => `${b};`)
    .join('\n');
  return transaction
    ? `-- ${title}: one transaction, each statement under lock_timeout, its hold on the locks bounded by the server\nBEGIN;\n${bounds}\n\n${body}\n\nCOMMIT;\n`
    : `-- ${title}\n${body}\n`;
}

/** The SQL of one step, as the executor would run it against this database (resolved against the live catalog). */
export async function planStepSql(spec: MigrationSpec, step: SqlStep, options: ExecutorOptions): Promise<string> {
  const session = await openSession(spec, options, false);
  try {
    const resolved = session.step === 'contracted' ? session.state!.resolved : await resolveLive(session, spec);
    const settings = await sessionSettingsScript(session.client);
    switch (step) {
      case 'expand':
        return settings + script('expand', [...expandPlan(resolved), ...objectExpandPlan(resolved)], true, options) + objectStepsScript('after expand commits', objectSteps(resolved, 'afterExpand'));
      case 'backfill':
        return (
          settings +
          `-- backfill: one autocommit statement per batch, on a session with SET tandem.backfill = 'on' so the sync trigger lets it through,\n` +
          `-- and SET lock_timeout = ${options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS} for the row locks of a batch.\n` +
          `-- 1. each batch: $1 = batch size (sized by time), then the checkpoint key, the bound (the largest key at the first run), the migration name, the bound as JSON\n` +
          backfillRangeSql(resolved, true) +
          ';\n\n-- 2. after the last batch, the rows still pending (skipped because another transaction held them): $1 = how many\n' +
          backfillSweepSql(resolved) +
          ';\n\n-- 3. and their revisit, retried with backoff until none is left: $1 = the keys as JSON, $2 = the migration name\n' +
          backfillRevisitSql(resolved) +
          ';\n'
        );
      case 'contract':
        return (
          script('contract: validate NOT NULL checks first (each its own transaction)', validateChecksPlan(resolved), false, options) +
          objectStepsScript('before contract', objectSteps(resolved, 'beforeContract')) +
          '\n' +
          script('contract', [...contractPlan(resolved), ...objectContractPlan(resolved)], true, options) +
          objectStepsScript('after contract commits', objectSteps(resolved, 'afterContract'))
        );
      case 'rollback':
        return objectStepsScript('before rollback', objectSteps(resolved, 'rollbackBefore')) + script('rollback', [...objectRollbackPlan(resolved), ...rollbackPlan(resolved)], true, options);
    }
  } finally {
    await session.close();
  }
}
