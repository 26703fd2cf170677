import { planStepSqlReport, SQL_STEPS, SqlStep } from '../../executor/plan-step-sql';
import { UsageError } from '../../phases/errors';
import { Command, DATABASE_FLAGS } from '../command';
import { ExitCode } from '../exit-code';
import { executorOptions, jsonOutcome, specArg } from '../step-context';

export const sqlCommand: Command = {
  name: 'sql',
  usage: 'SPEC',
  summary: 'print the SQL of a step, resolved against the live catalog (executes nothing)',
  flags: {
    ...DATABASE_FLAGS,
    step: { kind: 'string', value: 'STEP', required: true, description: 'expand, backfill, contract or rollback' },
  },
  async run(ctx) {
    const spec = specArg(ctx, 'sql');
    const step = ctx.args.flags.step as string | undefined;
    if (!step) throw new UsageError(`tandem sql needs --step (${SQL_STEPS.join(', ')})`);
    if (!(SQL_STEPS as readonly string[]).includes(step))
      throw new UsageError(`--step must be one of ${SQL_STEPS.join(', ')}, not "${step}"`);
    const report = await planStepSqlReport(spec, step as SqlStep, executorOptions(ctx));
    if (ctx.json) ctx.out.line(jsonOutcome({ step, sql: report.sql, assumes_contracted: report.assumesContracted }));
    else ctx.out.line(report.sql.trimEnd());
    return ExitCode.Ok;
  },
};
