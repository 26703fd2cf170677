import { backfillRangeSql, backfillRevisitSql, backfillSweepSql, contractPlan, expandPlan, rollbackPlan, validateChecksPlan, PlanStatement } from '../phases/sql/plan';
import { MigrationSpec } from '../phases/sql/spec';
import { openSession } from './session';
import { ExecutorOptions } from './types';
import { resolveLive } from './validate-live';

export const SQL_STEPS = ['expand', 'backfill', 'contract', 'rollback'] as const;
export type SqlStep = (typeof SQL_STEPS)[number];

function script(title: string, statements: PlanStatement[], transaction: boolean): string {
  const body = statements.map((s) => `-- ${s.id}\n${s.sql};`).join('\n\n');
  return transaction ? `-- ${title}: one transaction, each statement under lock_timeout\nBEGIN;\nSET LOCAL lock_timeout = '1s';\n\n${body}\n\nCOMMIT;\n` : `-- ${title}\n${body}\n`;
}

/** The SQL of one step, as the executor would run it against this database (resolved against the live catalog). */
export async function planStepSql(spec: MigrationSpec, step: SqlStep, options: ExecutorOptions): Promise<string> {
  const session = await openSession(spec, options, false);
  try {
    const resolved = session.step === 'contracted' ? session.state!.resolved : await resolveLive(session, spec);
    switch (step) {
      case 'expand':
        return script('expand', expandPlan(resolved), true);
      case 'backfill':
        return (
          `-- backfill: one autocommit statement per batch, on a session with SET tandem.backfill = 'on' so the sync trigger lets it through.\n` +
          `-- 1. each batch: $1 = batch size (sized by time), then the checkpoint key, the bound (the largest key at the first run), the migration name, the bound as JSON\n` +
          backfillRangeSql(resolved, true) +
          ';\n\n-- 2. after the last batch, the rows still pending (skipped because another transaction held them): $1 = how many\n' +
          backfillSweepSql(resolved) +
          ';\n\n-- 3. and their revisit, retried with backoff until none is left: $1 = the keys as JSON, $2 = the migration name\n' +
          backfillRevisitSql(resolved) +
          ';\n'
        );
      case 'contract':
        return script('contract: validate NOT NULL checks first (each its own transaction)', validateChecksPlan(resolved), false) + '\n' + script('contract', contractPlan(resolved), true);
      case 'rollback':
        return script('rollback', rollbackPlan(resolved), true);
    }
  } finally {
    await session.close();
  }
}
