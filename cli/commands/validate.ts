import { validateLiveReport } from '../../executor/validate-live';
import { Command, DATABASE_FLAGS } from '../command';
import { ExitCode } from '../exit-code';
import { databaseUrl, executorOptions, printResult, specArg } from '../step-context';

export const validateCommand: Command = {
  name: 'validate',
  usage: 'SPEC',
  summary:
    'check a spec offline and, with a database, by running expand and its probes in a transaction it rolls back (changes nothing)',
  flags: {
    ...DATABASE_FLAGS,
    offline: { kind: 'boolean', description: 'check the spec file only, even if DATABASE_URL is set' },
  },
  async run(ctx) {
    const spec = specArg(ctx, 'validate');
    const operations = spec.operations.map((o) => o.kind);
    if (ctx.args.flags.offline || !databaseUrl(ctx)) {
      printResult(
        ctx,
        true,
        `${spec.name}: the spec is valid (offline check; give a database to check it against the live catalog)`,
        {
          valid: true,
          live: false,
          name: spec.name,
          table: spec.table,
          operations,
        },
      );
      return ExitCode.Ok;
    }
    const { resolved, recordedStep } = await validateLiveReport(spec, executorOptions(ctx));
    const label = `${resolved.table.schema}.${resolved.table.name}`;
    const how = recordedStep
      ? `${spec.name} is already ${recordedStep.replace('_', ' ')} on ${label}, and the table agrees; expand would change nothing`
      : `${spec.name}: the spec is valid against ${label} (expand's transaction and probes ran and were rolled back; nothing changed)`;
    printResult(ctx, true, how, {
      valid: true,
      live: true,
      name: spec.name,
      table: label,
      operations,
      recordedStep,
      newColumns: resolved.mappings.flatMap((m) => m.newColumns.map((c) => ({ name: c.name, type: c.type }))),
      retiredColumns: resolved.mappings.flatMap((m) => m.oldColumns),
    });
    return ExitCode.Ok;
  },
};
