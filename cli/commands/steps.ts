import { backfill, contract, expand, rollback } from '../../executor';
import { ExecutorOptions, StepResult } from '../../executor/types';
import { MigrationSpec } from '../../phases/sql/spec';
import { UsageError } from '../../phases/errors';
import { Command, DATABASE_FLAGS } from '../command';
import { ExitCode } from '../exit-code';
import { executorOptions, printResult, specArg } from '../step-context';

/** expand, contract and rollback share one shape: run the step, print its result. */
function stepCommand(name: string, summary: string, run: (spec: MigrationSpec, o: ExecutorOptions) => Promise<StepResult>): Command {
  return {
    name,
    usage: 'SPEC [--database-url URL] [--lock-timeout MS] [--json]',
    summary,
    flags: DATABASE_FLAGS,
    async run(ctx) {
      const spec = specArg(ctx, name);
      const result = await run(spec, executorOptions(ctx));
      printResult(ctx, true, result.message, result);
      return ExitCode.Ok;
    },
  };
}

export const expandCommand = stepCommand('expand', 'add the new columns (nullable), the sync function and trigger, in one transaction', expand);
export const contractCommand = stepCommand('contract', 'refuse unless verify passes; drop the trigger, function and old columns in one transaction', contract);
export const rollbackCommand: Command = {
  ...stepCommand('rollback', 'undo expand exactly, data included; refused after contract, and while it would drop new-version writes (--force accepts that)', rollback),
  usage: 'SPEC [--force] [--database-url URL] [--lock-timeout MS] [--json]',
  flags: { ...DATABASE_FLAGS, force: { kind: 'boolean', description: 'roll back even when new-version writes cannot be held by the old columns (a lossy down): they are dropped' } },
  async run(ctx) {
    const spec = specArg(ctx, 'rollback');
    const result = await rollback(spec, { ...executorOptions(ctx), force: ctx.args.flags.force === true });
    printResult(ctx, true, result.message, result);
    return ExitCode.Ok;
  },
};

export const backfillCommand: Command = {
  name: 'backfill',
  usage: 'SPEC [--batch-size N] [--throttle-ms MS] [--database-url URL] [--json]',
  summary: 'fill the new columns of existing rows in keyset batches; resumable after a crash',
  flags: {
    ...DATABASE_FLAGS,
    'batch-size': { kind: 'integer', value: 'N', description: 'rows per batch transaction (default 1000)' },
    'throttle-ms': { kind: 'integer', value: 'MS', description: 'pause between batches (default 0)' },
  },
  async run(ctx) {
    const spec = specArg(ctx, 'backfill');
    const batchSize = ctx.args.flags['batch-size'] as number | undefined;
    if (batchSize !== undefined && batchSize < 1) throw new UsageError('--batch-size must be at least 1');
    const result = await backfill(spec, { ...executorOptions(ctx), batchSize, throttleMs: ctx.args.flags['throttle-ms'] as number | undefined });
    printResult(ctx, true, `${result.message} (${Math.round(result.rowsPerSecond)} rows/s)`, result);
    return ExitCode.Ok;
  },
};
