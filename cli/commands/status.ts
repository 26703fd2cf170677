import { history, status } from '../../executor';
import { HistoryReport } from '../../executor/history';
import { checkDatabaseUrl } from '../../executor/connection';
import { Command, CONNECTION_FLAGS } from '../command';
import { ExitCode } from '../exit-code';
import { Output } from '../output';
import { databaseUrl, executorOptions, jsonOutcome, specArg } from '../step-context';

/** Every recorded migration, one line each, oldest first. */
function printHistory(out: Output, report: HistoryReport): void {
  out.line(report.message);
  for (const m of report.migrations) {
    const by = (a: { actor: string | null; dbUser: string | null } | null) => (a ? [a.actor, a.dbUser && `db ${a.dbUser}`].filter(Boolean).join(', ') || 'unknown' : '');
    const finished = m.finishedAt ? `finished ${m.finishedAt} by ${by(m.finishedBy)}` : `not finished (last change ${m.updatedAt} by ${by(m.lastBy)})`;
    out.line(`  ${m.name} on ${m.table}: ${m.step}, ${m.rowsBackfilled} rows backfilled`);
    out.line(out.dim(`    started ${m.startedAt} by ${by(m.startedBy)}; ${finished}`));
  }
}

export const statusCommand: Command = {
  name: 'status',
  usage: '[SPEC]',
  summary: 'the step the table is at and the backfill progress (true after a crash); without SPEC, every migration the database records',
  flags: CONNECTION_FLAGS,
  async run(ctx) {
    if (ctx.args.positionals.length === 0) {
      const report = await history({ databaseUrl: checkDatabaseUrl(databaseUrl(ctx)) });
      if (ctx.json) ctx.out.line(jsonOutcome(report));
      else printHistory(ctx.out, report);
      return ExitCode.Ok;
    }
    const report = await status(specArg(ctx, 'status'), executorOptions(ctx));
    if (ctx.json) {
      ctx.out.line(jsonOutcome(report));
      return ExitCode.Ok;
    }
    const yes = (b: boolean) => (b ? 'present' : 'absent');
    ctx.out.line(`${report.migration} on ${report.table}: ${report.step}`);
    ctx.out.line(`  ${report.message}`);
    ctx.out.line(`  backfill: ${report.backfill.done} rows done${report.backfill.pending !== null ? `, ${report.backfill.pending} pending` : ''}`);
    if (report.syncFailedRows) ctx.out.line(`  sync failed: ${report.syncFailedRows} rows (run tandem repair)`);
    ctx.out.line(`  catalog: sync trigger ${yes(report.catalog.trigger)}, new columns ${yes(report.catalog.newColumns)}, old columns ${yes(report.catalog.oldColumns)}`);
    if (report.updatedAt) ctx.out.line(`  last change: ${report.updatedAt}`);
    return ExitCode.Ok;
  },
};
