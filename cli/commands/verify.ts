import { verify } from '../../executor';
import { AppVersionCheck } from '../../executor/types';
import { UsageError } from '../../phases/errors';
import { Command, CONNECTION_FLAGS } from '../command';
import { ExitCode } from '../exit-code';
import { executorOptions, printResult, specArg } from '../step-context';

export const verifyCommand: Command = {
  name: 'verify',
  usage: 'SPEC [--for-app v1|v2|v3] [--database-url URL] [--json]',
  summary: 'exit 0 only when every row is consistent (new = up(old) or old = down(new)) and backfilled',
  flags: {
    ...CONNECTION_FLAGS,
    'for-app': { kind: 'string', value: 'VERSION', description: 'verify for a canary of this app version (v1, v2, v3): can the table serve it now? (the AnalysisTemplate passes it)' },
  },
  async run(ctx) {
    const spec = specArg(ctx, 'verify');
    const forApp = ctx.args.flags['for-app'] as string | undefined;
    if (forApp !== undefined && !['v1', 'v2', 'v3'].includes(forApp)) throw new UsageError(`--for-app must be v1, v2 or v3, not "${forApp}"`);
    const report = await verify(spec, { ...executorOptions(ctx), forApp: forApp as AppVersionCheck | undefined });
    printResult(ctx, report.ok, report.message, report);
    if (!ctx.json && !report.ok && report.pendingSampleKeys.length) ctx.out.line(`  not backfilled, e.g. keys: ${report.pendingSampleKeys.join(', ')}`);
    if (!ctx.json) for (const o of report.operations) if (o.inconsistentRows) ctx.out.line(`  ${o.operation}: ${o.inconsistentRows} rows, e.g. keys: ${o.sampleKeys.join(', ')}`);
    if (!ctx.json && report.syncFailedRows) ctx.out.line(`  sync raised in the trigger: ${report.syncFailedRows} rows, e.g. keys: ${(report.syncFailedSampleKeys ?? []).join(', ')} (tandem repair re-derives them)`);
    if (!ctx.json && forApp === 'v1') for (const o of report.operations) if (o.lossyRows) ctx.out.line(`  ${o.operation}: ${o.lossyRows} rows v1 would not read as the new version wrote them, e.g. keys: ${(o.lossySampleKeys ?? []).join(', ')}`);
    return report.ok ? ExitCode.Ok : ExitCode.Failed;
  },
};
