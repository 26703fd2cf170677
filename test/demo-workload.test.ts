import * as fs from 'fs';
import { TALK_CUSTOMERS } from '../app/seed-data';
import { parseSpec } from '../phases/sql/spec';
import { demoWorkload } from '../rehearsal/demo-workload';
import { PAUSED } from '../rehearsal/phased-traffic';
import { RehearsalOptions, runRehearsal, Workload, WorkloadSetup } from '../rehearsal/run-rehearsal';
import { freshDatabase, sql } from './db';
import { SPLIT_SPEC_PATH, splitSpec } from './fixtures';

/** The demo's workload, with `before(label, url)` run while its traffic is paused, just before each check. */
function tampered(
  inner: WorkloadSetup,
  url: string,
  before: (label: string, url: string) => Promise<void>,
): WorkloadSetup {
  return {
    ...inner,
    prepare: async (ctx) => {
      const w = await inner.prepare(ctx);
      const wrapped: Workload = Object.create(w);
      wrapped.check = async (label, options) => {
        if (!options.final) await w.traffic.shift('(checking)', PAUSED);
        await before(label, url);
        await w.check(label, options);
      };
      return wrapped;
    },
  };
}

const QUICK = { rows: 200, stepMs: 100, workers: 2, opsPerSecond: 100 };

describe('the demo is one workload over the generic ledger and checker', () => {
  it("passes clean, and names the talk's new customer as v3 reads it", async () => {
    const url = await freshDatabase('demo_workload_clean');
    const options: RehearsalOptions = { ...QUICK, databaseUrl: url };
    const report = await runRehearsal(splitSpec(), options, demoWorkload(splitSpec(), options));
    expect({ failed: report.failure_samples, lost: report.mismatch_samples }).toEqual({ failed: [], lost: [] });
    expect(report).toMatchObject({
      ok: true,
      failed_writes: 0,
      failed_reads: 0,
      lost_or_altered_writes: 0,
      spec_defects: 0,
      lost_on_rollback: { count: 0 },
      rows: 200,
    });
    expect(report.schema).toEqual({ source: 'demo', table: 'customers', tables: [], rows: 'generated' });
    expect(report.new_customer).toMatchObject({ name: 'John Vin', first_name: 'John', last_name: 'Vin' });
    // Every check saw rows: the seeds and the v1/v2/v3 writes, each side held to what its writer sent.
    expect(report.checks.map((c) => c.label)).toEqual([
      'after baseline',
      'after backfill',
      'after dual-write',
      'after cleanup',
      'after contract',
    ]);
    expect(report.checks.every((c) => c.checked > 200)).toBe(true);
    expect(report.reads_checked).toBeGreaterThan(0);
    expect(report.round_trip![0]).toMatchObject({
      operation: expect.stringMatching(/^split_column/),
      realistic_values: 200 + TALK_CUSTOMERS.length,
      defects: 0,
    });
  });

  it("catches a new side altered, an old side altered and a row deleted behind the writers' backs", async () => {
    const url = await freshDatabase('demo_workload_tampered');
    const options: RehearsalOptions = { ...QUICK, databaseUrl: url };
    const report = await runRehearsal(
      splitSpec(),
      options,
      tampered(demoWorkload(splitSpec(), options), url, async (label) => {
        if (label === 'after dual-write')
          await sql(
            url,
            `UPDATE customers SET first_name = 'Tampered' WHERE id = 1; UPDATE customers SET full_name = 'Tampered Too' WHERE id = 2`,
          );
        if (label === 'after cleanup') await sql(url, `DELETE FROM customers WHERE id = 3`);
      }),
    );
    expect(report.ok).toBe(false);
    const seen = Object.fromEntries(report.mismatch_samples.map((m) => [m.id, [m.seenBy, m.actual]]));
    expect(seen['["1"]']).toEqual(['table after dual-write', expect.objectContaining({ first_name: 'Tampered' })]);
    expect(seen['["2"]']).toEqual(['table after dual-write', expect.objectContaining({ full_name: 'Tampered Too' })]);
    expect(seen['["3"]']).toEqual(['table after cleanup', null]);
    expect(report.lost_or_altered_writes).toBeGreaterThanOrEqual(3);
    expect(report.checks.find((c) => c.label === 'after baseline')!.mismatches).toBe(0);
  });

  it('a down that drops the last name: the spec defect, and the v2/v3 writes a rollback would lose, are named', async () => {
    const lossy = parseSpec(
      fs.readFileSync(SPLIT_SPEC_PATH, 'utf8').replace(/^(\s+)down: .*$/m, '$1down: "first_name"'),
      SPLIT_SPEC_PATH,
    );
    const url = await freshDatabase('demo_workload_lossy');
    const options: RehearsalOptions = { ...QUICK, databaseUrl: url };
    const report = await runRehearsal(lossy, options, demoWorkload(lossy, options));
    expect(report.ok).toBe(false);
    expect(report.spec_defects).toBeGreaterThan(0);
    expect(report.lost_on_rollback!.count).toBeGreaterThan(0);
    const lost = report.lost_on_rollback!.samples[0];
    expect(['v2', 'v3']).toContain(lost.version);
    expect(lost.rollback_gives.last_name).toBeNull();
    expect(lost.wrote.last_name).not.toBeNull();
  });
});
