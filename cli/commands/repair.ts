import { repair } from '../../executor';
import { DEFAULT_REPAIR_BATCH } from '../../executor/repair';
import { Command, DATABASE_FLAGS } from '../command';
import { ExitCode } from '../exit-code';
import { parseRepairKeys } from '../repair-keys';
import { executorOptions, printResult, specArg } from '../step-context';

export const repairCommand: Command = {
  name: 'repair',
  usage: 'SPEC',
  summary:
    're-derive rows whose sync raised in the trigger from the side their writer wrote; exit 1 while some still raise',
  flags: {
    ...DATABASE_FLAGS,
    keys: {
      kind: 'string',
      value: 'K1,K2',
      description: 'only these primary keys (a composite key as a JSON array); default: every flagged row',
    },
    'batch-size': {
      kind: 'integer',
      value: 'N',
      min: 1,
      default: DEFAULT_REPAIR_BATCH,
      description: 'rows per repair transaction',
    },
  },
  async run(ctx) {
    const spec = specArg(ctx, 'repair');
    const raw = ctx.args.flags.keys as string | undefined;
    const keys = raw === undefined ? undefined : parseRepairKeys(raw);
    const batchSize = ctx.args.flags['batch-size'] as number | undefined;
    const result = await repair(spec, { ...executorOptions(ctx), keys, batchSize });
    const ok = result.stillFailing.length === 0;
    printResult(ctx, ok, result.message, result, 'repair_incomplete');
    return ok ? ExitCode.Ok : ExitCode.Failed;
  },
};
