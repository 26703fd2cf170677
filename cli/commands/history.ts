import { history } from '../../executor';
import { checkDatabaseUrl } from '../../executor/connection';
import { Command, CONNECTION_FLAGS } from '../command';
import { ExitCode } from '../exit-code';
import { printHistorySteps } from '../history-text';
import { databaseUrl, jsonOutcome, specArg } from '../step-context';

/**
 * `tandem history [SPEC]`: every migration the database records, oldest first, each with its
 * steps in order (expand, backfills, rollbacks, contract): when, who, how long, how many rows.
 * With SPEC, that migration only. Read-only.
 */
export const historyCommand: Command = {
  name: 'history',
  usage: '[SPEC]',
  summary: 'every migration the database records, with its steps in order: when, who, how long, how many rows',
  flags: CONNECTION_FLAGS,
  async run(ctx) {
    const name = ctx.args.positionals.length ? specArg(ctx, 'history').name : undefined;
    const report = await history({ databaseUrl: checkDatabaseUrl(databaseUrl(ctx)) }, name);
    if (ctx.json) ctx.out.line(jsonOutcome(report));
    else printHistorySteps(ctx.out, report);
    return ExitCode.Ok;
  },
};
