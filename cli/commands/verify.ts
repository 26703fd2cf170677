import { verify } from '../../executor';
import { Command, DATABASE_FLAGS } from '../command';
import { ExitCode } from '../exit-code';
import { executorOptions, printResult, specArg } from '../step-context';

export const verifyCommand: Command = {
  name: 'verify',
  usage: 'SPEC [--database-url URL] [--json]',
  summary: 'exit 0 only when every row is consistent (new = up(old) or old = down(new)) and backfilled',
  flags: DATABASE_FLAGS,
  async run(ctx) {
    const report = await verify(specArg(ctx, 'verify'), executorOptions(ctx));
    printResult(ctx, report.ok, report.message, report);
    if (!ctx.json && !report.ok && report.pendingSampleKeys.length) ctx.out.line(`  not backfilled, e.g. keys: ${report.pendingSampleKeys.join(', ')}`);
    if (!ctx.json) for (const o of report.operations) if (o.inconsistentRows) ctx.out.line(`  ${o.operation}: ${o.inconsistentRows} rows, e.g. keys: ${o.sampleKeys.join(', ')}`);
    return report.ok ? ExitCode.Ok : ExitCode.Failed;
  },
};
