import { demoWorkload } from '../rehearsal/demo-workload';
import { RehearsalOptions, runRehearsal, Workload, WorkloadSetup } from '../rehearsal/run-rehearsal';
import { freshDatabase } from './db';
import { splitSpec } from './fixtures';

/** A workload that tells what the driver asked of it, and otherwise is the demo's. */
function recording(inner: WorkloadSetup, calls: string[]): WorkloadSetup {
  return {
    ...inner,
    prepare: async (ctx) => {
      const w = await inner.prepare(ctx);
      const wrapped: Workload = {
        traffic: w.traffic,
        oldColumns: w.oldColumns,
        newColumns: w.newColumns,
        verifyFailureIsFinding: w.verifyFailureIsFinding,
        atCanaryStep: async (stage, step) => {
          calls.push(`${stage} at ${step.share}%`);
          await w.atCanaryStep?.(stage, step);
        },
        check: async (label, options) => {
          calls.push(
            `check ${label}${options.newColumnsFilled ? ', new columns filled' : ''}${options.final ? ', final' : ''}`,
          );
          await w.check(label, options);
        },
        report: (run, common) => w.report(run, common),
      };
      return wrapped;
    },
  };
}

describe('one driver walks the stage table for any workload', () => {
  it('a canary step per weight into each app stage, a check after each stage, contract last', async () => {
    const url = await freshDatabase('run_rehearsal');
    const calls: string[] = [];
    const options: RehearsalOptions = { rows: 200, stepMs: 100, workers: 2, opsPerSecond: 200, databaseUrl: url };
    const spec = splitSpec();
    const report = await runRehearsal(spec, options, recording(demoWorkload(spec, options), calls));

    expect(report).toMatchObject({ ok: true, failed_writes: 0, lost_or_altered_writes: 0 });
    expect(calls).toEqual([
      'check after baseline',
      'check after backfill, new columns filled',
      'dual-write at 10%',
      'dual-write at 50%',
      'dual-write at 90%',
      'dual-write at 100%',
      'check after dual-write, new columns filled',
      'cleanup at 10%',
      'cleanup at 50%',
      'cleanup at 90%',
      'cleanup at 100%',
      'check after cleanup, new columns filled',
      'check after contract, new columns filled, final',
    ]);
    expect(report.stages.map((s) => s.stage)).toEqual([
      'baseline',
      'expand',
      'backfill',
      'dual-write',
      'cleanup',
      'contract',
    ]);
    expect(report.new_customer).toMatchObject({ name: 'John Vin', first_name: 'John', last_name: 'Vin' });
  });
});
