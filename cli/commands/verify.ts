import { verify } from '../../executor';
import { AppVersion } from '../../executor/types';
import { UsageError } from '../../phases/errors';
import { parseReleaseKind, VERSION_OF_KIND } from '../../phases/deploy/releases';
import { Command, CONNECTION_FLAGS } from '../command';
import { ExitCode } from '../exit-code';
import { executorOptions, printResult, specArg } from '../step-context';

export const verifyCommand: Command = {
  name: 'verify',
  usage: 'SPEC',
  summary: 'exit 0 only when every row is consistent (new = up(old) or old = down(new)) and backfilled',
  flags: {
    ...CONNECTION_FLAGS,
    'for-app': {
      kind: 'string',
      value: 'ROLE',
      description:
        'verify for a canary of the release in this role: old, dual (dual-write) or new (new-only), or their aliases v1, v2, v3: can the table serve it now? (the AnalysisTemplate passes it)',
    },
  },
  async run(ctx) {
    const spec = specArg(ctx, 'verify');
    const given = ctx.args.flags['for-app'] as string | undefined;
    const role = given === undefined ? undefined : parseReleaseKind(given);
    if (given !== undefined && !role)
      throw new UsageError(`--for-app must be old, dual or new (or v1, v2, v3), not "${given}"`);
    // The executor checks by the talk's versions; the roles are what a release is to this migration.
    const forApp: AppVersion | undefined = role ? VERSION_OF_KIND[role] : undefined;
    const report = await verify(spec, { ...executorOptions(ctx), forApp });
    printResult(ctx, report.ok, report.message, report, 'verify_failed');
    if (!ctx.json && !report.ok && report.pendingSampleKeys.length)
      ctx.out.line(`  not backfilled, e.g. keys: ${report.pendingSampleKeys.join(', ')}`);
    if (!ctx.json)
      for (const o of report.operations)
        if (o.inconsistentRows)
          ctx.out.line(
            o.counts === 'index'
              ? `  ${o.operation}: ${o.fix}`
              : `  ${o.operation}: ${o.inconsistentRows} rows, e.g. keys: ${o.sampleKeys.join(', ')}`,
          );
    if (!ctx.json && report.syncFailedRows)
      ctx.out.line(
        `  sync raised in the trigger: ${report.syncFailedRows} rows, e.g. keys: ${(report.syncFailedSampleKeys ?? []).join(', ')} (tandem repair re-derives them)`,
      );
    if (!ctx.json && forApp === 'v1')
      for (const o of report.operations)
        if (o.lossyRows)
          ctx.out.line(
            `  ${o.operation}: ${o.lossyRows} rows v1 would not read as the new version wrote them, e.g. keys: ${(o.lossySampleKeys ?? []).join(', ')}`,
          );
    return report.ok ? ExitCode.Ok : ExitCode.Failed;
  },
};
