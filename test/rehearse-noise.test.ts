import { spawn } from 'child_process';
import * as path from 'path';
import { renderHtmlReport } from '../rehearsal/html-report';
import { RehearsalReport } from '../rehearsal/rehearsal-report';
import { shortJson } from '../rehearsal/round-trip';
import { TANDEM_BIN } from './cli-run';

const MIGRATIONS = path.join(__dirname, '..', 'migrations');

/** A report with nothing in it but what a test sets. */
function report(over: Partial<RehearsalReport>): RehearsalReport {
  return {
    ok: true,
    migration: 'm',
    database: 'scratch',
    rows: 0,
    seconds: 0,
    acknowledged_writes: 0,
    failed_writes: 0,
    failed_reads: 0,
    lost_or_altered_writes: 0,
    reads_checked: 0,
    stages: [],
    backfill_rows_per_s: 0,
    backfill: { rows: 0, batches: 0, seconds: 0 },
    lock_waits: {
      lock_timeout_ms: 1000,
      max_write_ms: 0,
      writes_slower_than_lock_timeout: 0,
      executor_lock_retries: 0,
    },
    verify: { ok: true, message: 'consistent' },
    checks: [],
    new_customer: null,
    app_role: 'app',
    failure_samples: [],
    mismatch_samples: [],
    ...over,
  } as RehearsalReport;
}

describe("the rehearsal's output says what happened, readably", () => {
  it.each([
    [{ a: 'x'.repeat(2000) }, `{"a":"${'x'.repeat(40)}…" (2000 characters)}`],
    [{ a: 'short', b: null }, '{"a":"short","b":null}'],
    [{ a: 'Zoë'.repeat(20) }, `{"a":"${'Zoë'.repeat(20).slice(0, 40)}…" (60 characters)}`],
  ])('cuts a long value in an example: %#', (values, text) => {
    expect(shortJson(values)).toBe(text);
  });

  it("the lock-waits chart's caption counts what it draws", () => {
    const html = renderHtmlReport(
      report({
        timeline: {
          phases: [{ stage: 'expand', weights: { v1: 100 }, startMs: 0, endMs: 1000, writes: 2, failedWrites: 0 }],
          writes: [
            [10, 5],
            [20, 1500],
          ],
          backfill: [],
          lockWaits: [{ t: 500, message: 'expand waited on a lock; retrying' }],
          lockTimeoutMs: 1000,
        },
      }),
    );
    expect(html).toMatch(
      /Squares: app writes slower than the lock timeout \(1\)\. Triangles at the top: the executor's lock waits \(1\)\./,
    );
    expect((html.match(/<path class="retry"/g) ?? []).length).toBe(1);
    expect((html.match(/<rect class="slow"/g) ?? []).length).toBe(1);
  });

  it('after Ctrl-C mid-rehearsal it names the last stage it reported, not "before it reported any progress"', async () => {
    const child = spawn(
      process.execPath,
      [TANDEM_BIN, 'rehearse', path.join(MIGRATIONS, 'merge-name.yaml'), '--rows', '100', '--step-ms', '3000'],
      { env: { PATH: process.env.PATH, NO_COLOR: '1' } },
    );
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!sent && /stage expand:/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) =>
      child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : null))),
    );
    expect(sent).toBe(true);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(
      /tandem rehearse was stopped by SIGINT after "stage (expand|backfill)[^"]*"; its scratch server is removed with it/,
    );
    expect(stderr).not.toMatch(/before it reported any progress/);
  }, 60000);
});
