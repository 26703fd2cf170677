/**
 * Every executor option a pipeline can pass to the schema steps on the CLI is a TandemMigration
 * input (phases/deploy/executor-flags.ts), with the CLI's own bounds; and the flags each step's
 * Command carries are the ones that step's command takes.
 */
import { backfillCommand, contractCommand, expandCommand, rollbackCommand } from '../cli/commands/steps';
import { verifyCommand } from '../cli/commands/verify';
import { Command } from '../cli/command';
import {
  checkExecutorOptions,
  EXECUTOR_OPTIONS,
  executorFlags,
  ExecutorOptionsInput,
} from '../phases/deploy/executor-flags';

/**
 * The flags of a step's command that tune the executor: not the connection, not rollback's --force
 * (the Commands never force a lossy rollback), not verify's --for-app (the analysis Job's question).
 */
const tuning = (c: Command) =>
  Object.keys(c.flags)
    .filter((f) => !['database-url', 'force', 'for-app'].includes(f))
    .sort();

const ALL: ExecutorOptionsInput = {
  lockTimeoutMs: 1,
  holdTimeoutMs: 2,
  chunkTimeMs: 3,
  batchSize: 4,
  throttleMs: 0,
  maxLag: '1s',
  maxLagBytes: 5,
  maxLoad: 6,
  criticalLoad: 7,
  pauseFile: 'p',
};
const flagsOf = (line: string[]) =>
  line
    .filter((a) => a.startsWith('--'))
    .map((a) => a.slice(2))
    .sort();

describe('executor options', () => {
  it.each([
    ['expand', expandCommand],
    ['backfill', backfillCommand],
    ['verify', verifyCommand],
    ['contract', contractCommand],
    ['rollback', rollbackCommand],
  ] as const)('%s: the Command carries exactly the tuning flags the CLI command takes', (step, command) => {
    expect(flagsOf(executorFlags(step, ALL))).toEqual(tuning(command));
  });

  it("takes every tuning flag of the schema steps' CLI commands, with the CLI's lower bounds", () => {
    const cli = new Set(
      [expandCommand, backfillCommand, contractCommand, rollbackCommand, verifyCommand].flatMap(tuning),
    );
    expect(
      Object.values(EXECUTOR_OPTIONS)
        .map((o) => o.flag)
        .sort(),
    ).toEqual([...cli].sort());
    for (const o of Object.values(EXECUTOR_OPTIONS)) {
      const spec = [backfillCommand, expandCommand].map((c) => c.flags[o.flag]).find((s) => s !== undefined)!;
      expect({ flag: o.flag, min: o.min }).toEqual({
        flag: o.flag,
        min: spec.kind === 'integer' ? spec.min : undefined,
      });
    }
  });

  it('none given: no flag at all (the Command lines stay as they were)', () => {
    expect(executorFlags('expand', checkExecutorOptions('executor', undefined))).toEqual([]);
    expect(executorFlags('backfill', {})).toEqual([]);
  });
});
