import { history, status } from '../../executor';
import { checkDatabaseUrl } from '../../executor/connection';
import { Command, CONNECTION_FLAGS } from '../command';
import { ExitCode } from '../exit-code';
import { printHistorySummary, stepText } from '../history-text';
import { databaseUrl, executorOptions, jsonOutcome, specArg } from '../step-context';

export const statusCommand: Command = {
  name: 'status',
  usage: '[SPEC]',
  summary:
    'the step the table is at and the backfill progress (true after a crash); without SPEC, every migration the database records',
  flags: CONNECTION_FLAGS,
  async run(ctx) {
    if (ctx.args.positionals.length === 0) {
      const report = await history({ databaseUrl: checkDatabaseUrl(databaseUrl(ctx)) });
      if (ctx.json) ctx.out.line(jsonOutcome(report));
      else printHistorySummary(ctx.out, report);
      return ExitCode.Ok;
    }
    const spec = specArg(ctx, 'status');
    const options = executorOptions(ctx);
    const report = await status(spec, options);
    // The steps so far, from the record `tandem history` reads.
    const steps = (await history(options, spec.name)).migrations[0]?.steps ?? [];
    if (ctx.json) {
      ctx.out.line(jsonOutcome({ ...report, steps }));
      return ExitCode.Ok;
    }
    const yes = (b: boolean) => (b ? 'present' : 'absent');
    ctx.out.line(`${report.migration} on ${report.table}: ${report.step}`);
    ctx.out.line(`  ${report.message}`);
    ctx.out.line(
      `  backfill: ${report.backfill.done} rows done${report.backfill.pending !== null ? `, ${report.backfill.pending} pending` : ''}`,
    );
    if (report.syncFailedRows) ctx.out.line(`  sync failed: ${report.syncFailedRows} rows (run tandem repair)`);
    ctx.out.line(
      `  catalog: sync trigger ${yes(report.catalog.trigger)}, new columns ${yes(report.catalog.newColumns)}, old columns ${yes(report.catalog.oldColumns)}`,
    );
    if (report.updatedAt) ctx.out.line(`  last change: ${report.updatedAt}`);
    if (steps.length) ctx.out.line('  steps (tandem history SPEC):');
    for (const s of steps) ctx.out.line(`    ${stepText(s)}`);
    return ExitCode.Ok;
  },
};
