import { status } from '../../executor';
import { Command, CONNECTION_FLAGS } from '../command';
import { ExitCode } from '../exit-code';
import { executorOptions, jsonOutcome, specArg } from '../step-context';

export const statusCommand: Command = {
  name: 'status',
  usage: 'SPEC [--database-url URL] [--json]',
  summary: 'the step the table is at and the backfill progress, read from the database (true after a crash)',
  flags: CONNECTION_FLAGS,
  async run(ctx) {
    const report = await status(specArg(ctx, 'status'), executorOptions(ctx));
    if (ctx.json) {
      ctx.out.line(jsonOutcome(report, true, ExitCode.Ok));
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
