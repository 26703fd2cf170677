import {
  backfillRangeSql,
  backfillRevisitSql,
  backfillSweepSql,
  contractPlan,
  expandPlan,
  rollbackPlan,
  validateChecksPlan,
  PlanStatement,
} from '../phases/sql/plan';
import {
  objectContractPlan,
  objectExpandPlan,
  objectRollbackPlan,
  objectSteps,
  objectStepsScript,
} from '../phases/sql/plan';
import { MigrationSpec } from '../phases/sql/spec';
import { DEFAULT_LOCK_HOLD_MS, DEFAULT_LOCK_TIMEOUT_MS, transactionBounds } from './ddl-transaction';
import { sessionSettingsScript } from './evaluation-settings';
import { openSession, Session } from './session';
import { readState } from './state';
import { tableAfterContract } from '../phases/sql/table-after-contract';
import { ExecutorOptions } from './types';
import { resolveLive } from './validate-live';
import { analyseReads } from './expression-reads';

export const SQL_STEPS = ['expand', 'backfill', 'contract', 'rollback'] as const;
export type SqlStep = (typeof SQL_STEPS)[number];

function script(title: string, statements: PlanStatement[], transaction: boolean, options: ExecutorOptions): string {
  const body = statements.map((s) => `-- ${s.id}\n${s.sql};`).join('\n\n');
  const bounds = transactionBounds(
    options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    options.lockHoldMs ?? DEFAULT_LOCK_HOLD_MS,
  )
    .map((b) => `${b};`)
    .join('\n');
  return transaction
    ? `-- ${title}: one transaction, each statement under lock_timeout, its hold on the locks bounded by the server\nBEGIN;\n${bounds}\n\n${body}\n\nCOMMIT;\n`
    : `-- ${title}\n${body}\n`;
}

export interface StepSql {
  readonly sql: string;
  /** The migrations in progress on the table that the plan assumes contracted first (the next migration can only expand then). */
  readonly assumesContracted: readonly string[];
}

/**
 * The session to plan in: while other migrations are in progress on the table (this one not
 * started), their recorded resolutions give the table as it will be once they contract, and the
 * spec resolves against that, not against their old columns and Tandem's bookkeeping column.
 */
async function planningSession(spec: MigrationSpec, options: ExecutorOptions): Promise<Session> {
  const session = await openSession(spec, options, { others: 'allow' });
  if (!session.othersInProgress.length) return session;
  try {
    const states = await Promise.all(session.othersInProgress.map((name) => readState(session.client, name)));
    const table = tableAfterContract(
      session.table,
      states.flatMap((s) => (s ? [s.resolved] : [])),
    );
    return { ...session, table };
  } catch (err) {
    await session.close();
    throw err;
  }
}

/** The first line of a script that plans past migrations in progress: what it assumes. */
function assumption(session: Session): string {
  if (!session.othersInProgress.length) return '';
  const names = session.othersInProgress.join(', ');
  return (
    `-- assumes migration ${names}, in progress on ${session.label}, contracts first (this one cannot expand before it does):
` +
    `-- planned against the table as it will be then, without its old columns and Tandem's bookkeeping column, trigger and function
`
  );
}

/** The SQL of one step, as the executor would run it against this database (resolved against the live catalog). */
export async function planStepSql(spec: MigrationSpec, step: SqlStep, options: ExecutorOptions): Promise<string> {
  return (await planStepSqlReport(spec, step, options)).sql;
}

/** The SQL of one step and what it assumes about migrations in progress on the table. */
export async function planStepSqlReport(
  spec: MigrationSpec,
  step: SqlStep,
  options: ExecutorOptions,
): Promise<StepSql> {
  const session = await planningSession(spec, options);
  try {
    const sql = assumption(session) + (await stepScript(session, spec, step, options));
    return { sql, assumesContracted: session.othersInProgress };
  } finally {
    await session.close();
  }
}

/** The script of one step, resolved in the planning session. */
async function stepScript(
  session: Session,
  spec: MigrationSpec,
  step: SqlStep,
  options: ExecutorOptions,
): Promise<string> {
  const resolved = session.step === 'contracted' ? session.state!.resolved : await resolveLive(session, spec);
  const settings = await sessionSettingsScript(session.client);
  switch (step) {
    case 'expand': {
      // As expand resolves it: which pins, which schemas, which assignments over NEW.
      const analysed = session.step === 'contracted' ? resolved : await analyseReads(session.client, resolved);
      return (
        settings +
        script('expand', [...expandPlan(analysed), ...objectExpandPlan(analysed)], true, options) +
        objectStepsScript('after expand commits', objectSteps(resolved, 'afterExpand'))
      );
    }
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
        script(
          'contract: validate NOT NULL checks first (each its own transaction)',
          validateChecksPlan(resolved),
          false,
          options,
        ) +
        objectStepsScript('before contract', objectSteps(resolved, 'beforeContract')) +
        '\n' +
        script('contract', [...contractPlan(resolved), ...objectContractPlan(resolved)], true, options) +
        objectStepsScript('after contract commits', objectSteps(resolved, 'afterContract'))
      );
    case 'rollback':
      return (
        objectStepsScript('before rollback', objectSteps(resolved, 'beforeRollback')) +
        script('rollback', [...objectRollbackPlan(resolved), ...rollbackPlan(resolved)], true, options)
      );
  }
}
