import { ActorRecord, HistoryReport, HistoryStep, MigrationHistoryEntry } from '../executor/history';
import { Output } from './output';

/** "deploy #4711, db tandem_migrator", or "unknown" when nothing was recorded. */
export function byText(a: ActorRecord | null): string {
  if (!a) return 'unknown';
  return [a.actor, a.dbUser && `db ${a.dbUser}`].filter(Boolean).join(', ') || 'unknown';
}

const STEP_WORDS: Record<HistoryStep['step'], string> = {
  not_started: 'not started',
  expanded: 'expanded',
  backfilling: 'backfilling',
  backfilled: 'backfilled',
  contracted: 'contracted',
  rolled_back: 'rolled back',
};

/** One step as a line: when, what, rows, how long, who. */
export function stepText(s: HistoryStep): string {
  const rows =
    s.step === 'backfilled' && s.totalRows !== null
      ? ` ${s.totalRows} rows${s.rows !== null && s.rows !== s.totalRows ? ` (${s.rows} in its last run)` : ''}`
      : '';
  const took = s.seconds !== null ? `, took ${s.seconds} s` : '';
  return `${s.at}  ${STEP_WORDS[s.step]}${rows}${took}, by ${byText(s.by)}`;
}

/**
 * The migration in one line, from its steps: where it is, and the rows backfilled only when a
 * backfill finished (a rolled-back migration is "rolled back", not "0 rows backfilled").
 */
export function summaryText(m: MigrationHistoryEntry): string {
  // Only what happened since the last expand: a rollback discards the backfill before it.
  const lastExpand = m.steps.map((s) => s.step).lastIndexOf('expanded');
  const current = m.steps.slice(Math.max(0, lastExpand));
  const backfilled = current.filter((s) => s.step === 'backfilled').pop();
  const inProgress = m.step === 'expanded' || m.step === 'backfilling';
  const rows =
    backfilled && backfilled.totalRows !== null && m.step !== 'rolled_back'
      ? `; backfilled ${backfilled.totalRows} rows`
      : inProgress && m.rowsBackfilled > 0
        ? `; ${m.rowsBackfilled} rows backfilled so far`
        : m.steps.length === 0 && m.step === 'contracted' && m.rowsBackfilled > 0
          ? `; backfilled ${m.rowsBackfilled} rows`
          : '';
  const rollbacks = m.steps.filter((s) => s.step === 'rolled_back').length;
  const again = rollbacks > 0 && m.step !== 'rolled_back' ? `; rolled back ${rollbacks} time(s) before` : '';
  return `${m.name} on ${m.table}: ${STEP_WORDS[m.step]}${rows}${again}`;
}

/** Every recorded migration, one line each, oldest first (`tandem status` without a spec). */
export function printHistorySummary(out: Output, report: HistoryReport): void {
  out.line(report.message);
  for (const m of report.migrations) {
    const finished = m.finishedAt
      ? `finished ${m.finishedAt} by ${byText(m.finishedBy)}`
      : `not finished (last change ${m.updatedAt} by ${byText(m.lastBy)})`;
    out.line(`  ${summaryText(m)}`);
    out.line(out.dim(`    started ${m.startedAt} by ${byText(m.startedBy)}; ${finished}`));
  }
}

/** Every recorded migration with its steps in order (`tandem history`). */
export function printHistorySteps(out: Output, report: HistoryReport): void {
  out.line(report.message);
  for (const m of report.migrations) {
    out.line(`${summaryText(m)}; started ${m.startedAt} by ${byText(m.startedBy)}`);
    if (m.steps.length === 0) out.line(out.dim('  (recorded before steps were kept)'));
    for (const s of m.steps) out.line(`  ${stepText(s)}`);
  }
}
