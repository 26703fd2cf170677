import { backfill, contract, expand, rollback } from '../../executor';
import { DEFAULT_CHUNK_TIME_MS } from '../../executor/batch-sizer';
import { parseDuration } from '../../executor/throttle';
import { ExecutorOptions, StepResult } from '../../executor/types';
import { MigrationSpec } from '../../phases/sql/spec';
import { UsageError } from '../../phases/errors';
import { Command, CommandContext, DATABASE_FLAGS, LOCK_FLAGS } from '../command';
import { ExitCode } from '../exit-code';
import { executorOptions, printResult, specArg } from '../step-context';

/** expand, contract and rollback share one shape: run the step, print its result. */
function stepCommand(
  name: string,
  summary: string,
  run: (spec: MigrationSpec, o: ExecutorOptions) => Promise<StepResult>,
): Command {
  return {
    name,
    usage: 'SPEC',
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

export const expandCommand = stepCommand(
  'expand',
  'add the new columns (nullable), the sync function and trigger, in one transaction',
  expand,
);
export const contractCommand = stepCommand(
  'contract',
  'refuse unless verify passes; drop the trigger, function and old columns in one transaction',
  contract,
);
export const rollbackCommand: Command = {
  ...stepCommand(
    'rollback',
    'undo expand exactly, data included; refused after contract, and while it would drop new-version writes (--force accepts that)',
    rollback,
  ),
  flags: {
    ...DATABASE_FLAGS,
    force: {
      kind: 'boolean',
      description:
        'roll back even when new-version writes cannot be held by the old columns (a lossy down): they are dropped',
    },
  },
  async run(ctx) {
    const spec = specArg(ctx, 'rollback');
    const result = await rollback(spec, { ...executorOptions(ctx), force: ctx.args.flags.force === true });
    printResult(ctx, true, result.message, result);
    return ExitCode.Ok;
  },
};

export const backfillCommand: Command = {
  name: 'backfill',
  usage: 'SPEC',
  summary: 'fill the new columns of existing rows in keyset batches sized by time; resumable after a crash',
  flags: {
    ...LOCK_FLAGS,
    'chunk-time': {
      kind: 'integer',
      value: 'MS',
      min: 1,
      default: DEFAULT_CHUNK_TIME_MS,
      description: 'target duration of one batch, its row locks held no longer',
    },
    'batch-size': {
      kind: 'integer',
      value: 'N',
      min: 1,
      description: 'rows per batch: alone, every batch; with --chunk-time, the first',
    },
    'throttle-ms': { kind: 'integer', value: 'MS', min: 0, default: 0, description: 'pause between batches' },
    'max-lag': {
      kind: 'string',
      value: 'DURATION',
      description: 'pause while a streaming replica replays more than this behind, e.g. 1s, 500ms',
    },
    'max-lag-bytes': {
      kind: 'integer',
      value: 'N',
      min: 1,
      description: 'pause while a streaming replica has more than N bytes of WAL to replay',
    },
    'max-load': {
      kind: 'integer',
      value: 'N',
      min: 1,
      description: 'pause while more than N other backends are active',
    },
    'critical-load': {
      kind: 'integer',
      value: 'N',
      min: 1,
      description: 'stop, checkpoint kept, when more than N other backends are active',
    },
    'pause-file': { kind: 'string', value: 'PATH', description: 'pause while this file exists' },
  },
  async run(ctx) {
    const spec = specArg(ctx, 'backfill');
    const f = ctx.args.flags;
    const batchSize = f['batch-size'] as number | undefined;
    let maxLagMs: number | undefined;
    if (f['max-lag'] !== undefined) {
      maxLagMs = parseDuration(f['max-lag'] as string);
      if (maxLagMs === undefined)
        throw new UsageError(`--max-lag must be a duration such as 1s, 500ms or 2min, not "${f['max-lag']}"`);
    }
    const result = await backfill(spec, {
      ...executorOptions(ctx),
      batchSize,
      chunkTimeMs: f['chunk-time'] as number | undefined,
      throttleMs: f['throttle-ms'] as number | undefined,
      maxLagMs,
      maxLagBytes: f['max-lag-bytes'] as number | undefined,
      maxLoad: f['max-load'] as number | undefined,
      criticalLoad: f['critical-load'] as number | undefined,
      pauseFile: f['pause-file'] as string | undefined,
      resumeCommand: resumeCommand(ctx),
    });
    // A rate is news only when rows were written; "(0 rows/s)" after "already backfilled" is not.
    const rate =
      result.rowsUpdated > 0 && result.rowsPerSecond > 0 ? ` (${Math.round(result.rowsPerSecond)} rows/s)` : '';
    printResult(ctx, true, `${result.message}${rate}`, result);
    return ExitCode.Ok;
  },
};

/** The command line that resumes this backfill: the same spec and flags (the URL left to the environment when it came from there). */
function resumeCommand(ctx: CommandContext): string {
  const quote = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  const flags = Object.entries(ctx.args.flags)
    .filter(([name, v]) => v !== undefined && v !== false && name !== 'database-url')
    .map(([name, v]) => (v === true ? `--${name}` : `--${name} ${quote(String(v))}`));
  return ['tandem backfill', ...ctx.args.positionals.map(quote), ...flags].join(' ');
}
