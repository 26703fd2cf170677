import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { customersTableSql } from '../rehearsal/demo-database';
import { runCli } from './cli-run';
import { freshDatabase, sql } from './db';
import { SPLIT_SPEC_PATH } from './fixtures';

describe('tandem rehearse (the CLI, in-process)', () => {
  it('--json: exit 0, and the last stdout line is the verdict with every stage', async () => {
    const url = await freshDatabase('rehearse_cli');
    const { code, stdout, stderr } = await runCli(['rehearse', SPLIT_SPEC_PATH, '--rows', '300', '--step-ms', '200', '--database-url', url, '--json']);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    const report = JSON.parse(lines[lines.length - 1]);
    expect(report).toMatchObject({ failed_writes: 0, lost_or_altered_writes: 0 });
    expect(report.stages.map((s: { stage: string }) => s.stage)).toEqual(['baseline', 'expand', 'backfill', 'dual-write', 'cleanup', 'contract']);
    for (const s of report.stages) expect(Object.keys(s)).toEqual(expect.arrayContaining(['stage', 'writes', 'p50_ms', 'p99_ms', 'versions']));
    expect(typeof report.backfill_rows_per_s).toBe('number');
    expect(stderr).toMatch(/stage dual-write: v2 canary at 10%/);
    expect(stderr).toMatch(/checked \d+ writes and reads after contract: 0 lost or altered/);
  });

  it('prints a table in words and a verdict without --json', async () => {
    const url = await freshDatabase('rehearse_cli_text');
    const { code, stdout } = await runCli(['rehearse', SPLIT_SPEC_PATH, '--rows', '100', '--step-ms', '150', '--database-url', url], { NO_COLOR: '1' });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^stage\s+app versions\s+writes\s+failed\s+p50 ms\s+p99 ms\s+max ms$/m);
    expect(stdout).toMatch(/^dual-write\s+v1\+v2\s+\d+\s+0\s/m);
    expect(stdout).toMatch(/new customer John Vin \(written by v2\) reads in v3 as first_name "John", last_name "Vin"/);
    expect(stdout).toMatch(/✔ zero downtime: 0 failed writes, 0 failed reads, 0 lost or altered writes/);
    expect(stdout).not.toMatch(/\u001b\[/);
  });

  it('exits 1 and names the failed writes when the spec\'s down yields NULL for a NOT NULL column', async () => {
    // A broken refactoring that expand's probes (run as the migrator) cannot see: for the app role,
    // every v3 write makes the trigger set full_name to NULL.
    const broken = fs
      .readFileSync(SPLIT_SPEC_PATH, 'utf8')
      .replace(/^(\s+)down: .*$/m, `$1down: "CASE WHEN current_user LIKE 'tandem_rehearsal_app_%' THEN NULL ELSE concat_ws(' ', first_name, last_name) END"`);
    expect(broken).toContain("current_user LIKE 'tandem_rehearsal_app_%'");
    const specPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-broken-')), 'broken.yaml');
    fs.writeFileSync(specPath, broken);
    const url = await freshDatabase('rehearse_cli_broken');
    const { code, stdout } = await runCli(['rehearse', specPath, '--rows', '100', '--step-ms', '200', '--database-url', url, '--json']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(report.ok).toBe(false);
    expect(report.failed_writes).toBeGreaterThan(0);
    expect(report.stages.find((s: { stage: string }) => s.stage === 'cleanup').failed_writes).toBeGreaterThan(0);
    expect(report.failure_samples[0]).toMatchObject({ version: 'v3', stage: 'cleanup', message: expect.stringMatching(/full_name/) });
  });

  it('exits 1 with one sentence when the database already has a customers table', async () => {
    const url = await freshDatabase('rehearse_cli_refuse');
    await sql(url, customersTableSql());
    const { code, stdout, stderr } = await runCli(['rehearse', SPLIT_SPEC_PATH, '--database-url', url, '--json']);
    expect(code).toBe(1);
    // --json: one object on stdout for a failure too.
    expect(JSON.parse(stdout)).toMatchObject({ ok: false, exit_code: 1, error: { kind: 'refused', message: expect.stringMatching(/^table customers already exists/) } });
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^✘ failed: table customers already exists/)]);
  });

  it.each([
    [['rehearse'], /needs a spec file/],
    [['rehearse', SPLIT_SPEC_PATH, '--rows', 'many'], /--rows must be a whole number/],
    [['rehearse', SPLIT_SPEC_PATH, '--step-ms', '0'], /--step-ms must be at least 1/],
    [['rehearse', 'migrations/missing.yaml'], /does not exist/],
  ])('exits 2 on bad input %j', async (args, message) => {
    const { code, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});
