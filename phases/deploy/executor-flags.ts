/**
 * The executor options a pipeline can pass on the tandem CLI, as a TandemMigration input, and the
 * flags each schema Command's line carries. Pure. An option left out adds no flag, so a stack
 * declared without options keeps the exact Command lines it had (a changed line is an in-place
 * update that runs the step again, see schema-commands.ts).
 *
 * Which step takes which flag is the CLI's (cli/command.ts, cli/commands/steps.ts):
 * - expand, contract and rollback (expand's delete): --lock-timeout, --hold-timeout;
 * - backfill: --lock-timeout and the batch and throttle flags;
 * - verify: none (it reads in one snapshot and waits for no lock).
 */
import { ConfigError } from './config-error';
import { SchemaCommandStep } from './stack-state';

export interface ExecutorOptionsInput {
  /** --lock-timeout MS: lock_timeout of each statement that waits for a lock (expand, backfill, contract, rollback). */
  readonly lockTimeoutMs?: number;
  /** --hold-timeout MS: how long a DDL transaction may sit idle holding its locks (expand, contract, rollback). */
  readonly holdTimeoutMs?: number;
  /** --chunk-time MS: target duration of one backfill batch. */
  readonly chunkTimeMs?: number;
  /** --batch-size N: rows per backfill batch (with chunkTimeMs, the first batch). */
  readonly batchSize?: number;
  /** --throttle-ms MS: pause between backfill batches. */
  readonly throttleMs?: number;
  /** --max-lag DURATION: pause the backfill while a streaming replica replays more than this behind (e.g. "1s", "500ms"). */
  readonly maxLag?: string;
  /** --max-lag-bytes N: pause while a replica has more than N bytes of WAL to replay. */
  readonly maxLagBytes?: number;
  /** --max-load N: pause while more than N other backends are active. */
  readonly maxLoad?: number;
  /** --critical-load N: stop the backfill (checkpoint kept) when more than N other backends are active. */
  readonly criticalLoad?: number;
  /** --pause-file PATH: pause the backfill while this file exists (on the machine the Command runs on). */
  readonly pauseFile?: string;
}

type Option = keyof ExecutorOptionsInput;

interface OptionSpec {
  readonly flag: string;
  /** The smallest whole number taken; absent for a string option. */
  readonly min?: number;
  readonly steps: readonly ('ddl' | 'backfill')[];
}

/** Every option, its CLI flag and bounds (the CLI's own: cli/command.ts and cli/commands/steps.ts). */
export const EXECUTOR_OPTIONS: Readonly<Record<Option, OptionSpec>> = {
  lockTimeoutMs: { flag: 'lock-timeout', min: 1, steps: ['ddl', 'backfill'] },
  holdTimeoutMs: { flag: 'hold-timeout', min: 1, steps: ['ddl'] },
  chunkTimeMs: { flag: 'chunk-time', min: 1, steps: ['backfill'] },
  batchSize: { flag: 'batch-size', min: 1, steps: ['backfill'] },
  throttleMs: { flag: 'throttle-ms', min: 0, steps: ['backfill'] },
  maxLag: { flag: 'max-lag', steps: ['backfill'] },
  maxLagBytes: { flag: 'max-lag-bytes', min: 1, steps: ['backfill'] },
  maxLoad: { flag: 'max-load', min: 1, steps: ['backfill'] },
  criticalLoad: { flag: 'critical-load', min: 1, steps: ['backfill'] },
  pauseFile: { flag: 'pause-file', steps: ['backfill'] },
};

/** The CLI's duration syntax for --max-lag (executor/throttle.ts parseDuration): 500ms, 1s, 2min. */
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|min)$/;

/** Validate the options as the CLI would, before any resource exists; ConfigError names `key.option`. */
export function checkExecutorOptions(key: string, options: ExecutorOptionsInput | undefined): ExecutorOptionsInput {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new ConfigError(key, 'must be an object of executor options, e.g. { lockTimeoutMs: 2000, maxLoad: 20 }');
  for (const [name, value] of Object.entries(options)) {
    const spec = EXECUTOR_OPTIONS[name as Option];
    const at = `${key}.${name}`;
    if (!spec)
      throw new ConfigError(at, `is not an executor option; use one of ${Object.keys(EXECUTOR_OPTIONS).join(', ')}`);
    if (value === undefined) continue;
    if (spec.min !== undefined) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < spec.min)
        throw new ConfigError(
          at,
          `must be a whole number of at least ${spec.min} (--${spec.flag}), not ${JSON.stringify(value)}`,
        );
    } else if (typeof value !== 'string' || value.trim() === '') {
      throw new ConfigError(at, `must be a non-empty string (--${spec.flag}), not ${JSON.stringify(value)}`);
    } else if (name === 'maxLag') {
      const m = DURATION.exec(value.trim());
      if (!m || Number(m[1]) <= 0)
        throw new ConfigError(
          at,
          `must be a duration such as 1s, 500ms or 2min (--max-lag), not ${JSON.stringify(value)}`,
        );
    }
  }
  return options;
}

/** The flags (`['--lock-timeout', '2000', ...]`) the line of `step` carries; none for verify. */
export function executorFlags(step: SchemaCommandStep | 'rollback', options: ExecutorOptionsInput): string[] {
  const kind = step === 'backfill' ? 'backfill' : step === 'verify' ? undefined : 'ddl';
  if (!kind) return [];
  const flags: string[] = [];
  for (const [name, spec] of Object.entries(EXECUTOR_OPTIONS) as [Option, OptionSpec][]) {
    const value = options[name];
    if (value !== undefined && spec.steps.includes(kind)) flags.push(`--${spec.flag}`, String(value));
  }
  return flags;
}
