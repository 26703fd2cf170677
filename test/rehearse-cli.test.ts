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
    const { code, stdout, stderr } = await runCli([
      'rehearse',
      SPLIT_SPEC_PATH,
      '--rows',
      '300',
      '--step-ms',
      '200',
      '--database-url',
      url,
      '--json',
    ]);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    const report = JSON.parse(lines[lines.length - 1]);
    expect(report).toMatchObject({ failed_writes: 0, lost_or_altered_writes: 0 });
    expect(report.stages.map((s: { stage: string }) => s.stage)).toEqual([
      'baseline',
      'expand',
      'backfill',
      'dual-write',
      'cleanup',
      'contract',
    ]);
    for (const s of report.stages)
      expect(Object.keys(s)).toEqual(expect.arrayContaining(['stage', 'writes', 'p50_ms', 'p99_ms', 'versions']));
    expect(typeof report.backfill_rows_per_s).toBe('number');
    expect(stderr).toMatch(/stage dual-write: v2 canary at 10%/);
    expect(stderr).toMatch(/checked \d+ writes and reads after contract: 0 lost or altered/);
  });

  it('prints a table in words and a verdict without --json', async () => {
    const url = await freshDatabase('rehearse_cli_text');
    const { code, stdout } = await runCli(
      ['rehearse', SPLIT_SPEC_PATH, '--rows', '100', '--step-ms', '150', '--database-url', url],
      { NO_COLOR: '1' },
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^stage\s+app versions\s+writes\s+failed\s+p50 ms\s+p99 ms\s+max ms$/m);
    expect(stdout).toMatch(/^dual-write\s+v1\+v2\s+\d+\s+0\s/m);
    expect(stdout).toMatch(/new customer John Vin \(written by v2\) reads in v3 as first_name "John", last_name "Vin"/);
    expect(stdout).toMatch(/✔ zero downtime: 0 failed writes, 0 failed reads, 0 lost or altered writes/);
    // eslint-disable-next-line no-control-regex -- the escape character is what is asserted absent
    expect(stdout).not.toMatch(/\u001b\[/);
  });

  it("exits 1 and names the failed writes when the spec's down yields NULL for a NOT NULL column", async () => {
    // A broken refactoring that expand's probes (run as the migrator) cannot see: for the app role,
    // every v3 write makes the trigger set full_name to NULL.
    const broken = fs
      .readFileSync(SPLIT_SPEC_PATH, 'utf8')
      .replace(
        /^(\s+)down: .*$/m,
        `$1down: "CASE WHEN current_user LIKE 'tandem_rehearsal_app_%' THEN NULL ELSE concat_ws(' ', first_name, last_name) END"`,
      );
    expect(broken).toContain("current_user LIKE 'tandem_rehearsal_app_%'");
    const specPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-broken-')), 'broken.yaml');
    fs.writeFileSync(specPath, broken);
    const url = await freshDatabase('rehearse_cli_broken');
    const { code, stdout } = await runCli([
      'rehearse',
      specPath,
      '--rows',
      '100',
      '--step-ms',
      '200',
      '--database-url',
      url,
      '--json',
    ]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(report.ok).toBe(false);
    expect(report.failed_writes).toBeGreaterThan(0);
    expect(report.stages.find((s: { stage: string }) => s.stage === 'cleanup').failed_writes).toBeGreaterThan(0);
    expect(report.failure_samples[0]).toMatchObject({
      version: 'v3',
      stage: 'cleanup',
      message: expect.stringMatching(/full_name/),
    });
  });

  it('exits 1 with one sentence when the database already has a customers table', async () => {
    const url = await freshDatabase('rehearse_cli_refuse');
    await sql(url, customersTableSql());
    const { code, stdout, stderr } = await runCli(['rehearse', SPLIT_SPEC_PATH, '--database-url', url, '--json']);
    expect(code).toBe(1);
    // --json: one object on stdout for a failure too.
    expect(JSON.parse(stdout)).toMatchObject({
      ok: false,
      exit_code: 1,
      error: { kind: 'refused', message: expect.stringMatching(/^table customers already exists/) },
    });
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^✘ failed: table customers already exists/)]);
  });

  it('exits 1 on a lossy down, naming the spec defect and the writes a rollback would lose', async () => {
    const shop = path.join(__dirname, 'fixtures', 'shop');
    const args = [
      'rehearse',
      path.join(shop, 'orders-cents-lossy.yaml'),
      '--schema',
      path.join(shop, 'schema.sql'),
      '--rows',
      '200',
      '--step-ms',
      '150',
    ];
    const text = await runCli(args, { NO_COLOR: '1' });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      /^✘ spec defect: change_type total -> total_cents bigint: up of \{"total":"\d+\.\d\d"\} is \{"total_cents":"\d+"\}, down gives \{"total":"\d+\.00"\}/m,
    );
    expect(text.stdout).toMatch(
      /^✘ lost on rollback: v[23] (dual-write|cleanup|contract) write to row \["\d+"\] wrote \{"total_cents":"\d+"\}, a walk back gives \{"total_cents":"\d+00"\}/m,
    );
    expect(text.stdout).toMatch(/^✘ rehearsal FAILED: .* \d+ spec defects, \d+ writes lost on rollback/m);
    const json = await runCli([...args, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout.trim().split('\n').pop() as string);
    // (A dual-write of a value whose down does not round-trip may also show as altered, while the sync
    // trigger judges a write by which values changed: that is the executor's to fix, issue 8 item 9.)
    expect(report).toMatchObject({ ok: false, failed_writes: 0 });
    expect(report.spec_defects).toBeGreaterThan(0);
    expect(report.lost_on_rollback.count).toBeGreaterThan(0);
    expect(report.timeline).toBeUndefined();
  });

  it('--schema-from URL --sample N: exit 0, the table and the tables its foreign keys need copied', async () => {
    const shop = path.join(__dirname, 'fixtures', 'shop');
    const source = await freshDatabase('rehearse_cli_source');
    await sql(source, fs.readFileSync(path.join(shop, 'schema.sql'), 'utf8'));
    await sql(
      source,
      `INSERT INTO shop.customers (email, name) VALUES ('a@example.com', 'Ada'), ('b@example.com', 'Brontë');
                       INSERT INTO shop.orders (customer_id, total, note) SELECT 1 + g % 2, g * 1.25, 'note ' || g FROM generate_series(1, 60) g`,
    );
    const { code, stdout } = await runCli([
      'rehearse',
      path.join(shop, 'orders-cents.yaml'),
      '--schema-from',
      source,
      '--sample',
      '50',
      '--step-ms',
      '150',
      '--json',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(report).toMatchObject({
      ok: true,
      rows: 50,
      schema: { source: 'database', table: 'shop.orders', tables: ['shop.customers'], rows: 'sample' },
    });
  });

  it.each([
    [
      ['rehearse', SPLIT_SPEC_PATH, '--sample', '10'],
      /--sample copies rows from the database given with --schema-from/,
    ],
    [
      ['rehearse', SPLIT_SPEC_PATH, '--schema', 'no/such/schema.sql'],
      /--schema no\/such\/schema.sql cannot be read \(ENOENT\)/,
    ],
    [
      ['rehearse', SPLIT_SPEC_PATH, '--schema-from', 'postgres://x@127.0.0.1:1/x', '--sample', '0'],
      /--sample must be a positive whole number \(N\), not "0"/,
    ],
    [['rehearse', SPLIT_SPEC_PATH, '--report', ''], /--report needs a file name/],
  ])('exits 2 on bad input %j', async (args, message) => {
    const { code, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });

  it("--break-checks PERCENT: exit 1, the old version's writes that break the added CHECK named as a finding about the spec or the app", async () => {
    const billing = path.join(__dirname, 'fixtures', 'billing');
    const args = [
      'rehearse',
      path.join(billing, 'invoices-cents.yaml'),
      '--schema',
      path.join(billing, 'schema.sql'),
      '--rows',
      '200',
      '--step-ms',
      '150',
      '--break-checks',
      '30',
    ];
    const { code, stdout } = await runCli(args, { NO_COLOR: '1' });
    expect(code).toBe(1);
    expect(stdout).toMatch(/^--break-checks: v1 wrote \d+ rows that break the CHECKs the spec adds$/m);
    expect(stdout).toMatch(
      /^✘ finding \(the spec or the app, not Tandem\): verify before contract: .*invoices_quantity_small: rows that break the check/m,
    );
    expect(stdout).toMatch(
      /^✘ rehearsal FAILED: 0 failed writes, 0 failed reads, 0 lost or altered writes of \d+ acknowledged, 1 finding about the spec or the app/m,
    );
  });

  it('--break-checks on a spec that adds no CHECK: exit 2, one sentence', async () => {
    const shop = path.join(__dirname, 'fixtures', 'shop');
    const { code, stderr } = await runCli([
      'rehearse',
      path.join(shop, 'orders-cents.yaml'),
      '--schema',
      path.join(shop, 'schema.sql'),
      '--rows',
      '50',
      '--break-checks',
      '10',
    ]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^✘ invalid input: --break-checks: the spec adds no CHECK \(add_check\), so no old-version write can break one$/,
      ),
    ]);
  });

  it.each([
    [['rehearse'], /needs a spec file/],
    [['rehearse', SPLIT_SPEC_PATH, '--rows', 'many'], /--rows must be a whole number, 0 or more \(N\), not "many"/],
    [['rehearse', SPLIT_SPEC_PATH, '--step-ms', '0'], /--step-ms must be a positive whole number \(MS\), not "0"/],
    [['rehearse', 'migrations/missing.yaml'], /does not exist/],
  ])('exits 2 on bad input %j', async (args, message) => {
    const { code, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  describe('--report is written for every outcome, the failure first', () => {
    const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-report-'));
    const BILLING = path.join(__dirname, 'fixtures', 'billing');

    it('a rehearsal that stops while setting up (a CHECK no generated value keeps): exit 2, and the report says why', async () => {
      const d = dir();
      const schema = path.join(d, 'parts.sql');
      fs.writeFileSync(
        schema,
        `CREATE TABLE parts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sku text NOT NULL CONSTRAINT parts_sku_format CHECK (sku ~ '^([A-Z])\\1-[0-9]+$'), note text)`,
      );
      const spec = path.join(d, 'parts.yaml');
      fs.writeFileSync(
        spec,
        'name: parts-note\ntable: parts\noperations:\n  - rename_column: {from: note, to: remark}\n',
      );
      const file = path.join(d, 'report.html');
      const { code, stderr } = await runCli(['rehearse', spec, '--schema', schema, '--rows', '50', '--report', file]);
      expect(code).toBe(2);
      expect(stderr).toMatch(
        /the CHECK parts_sku_format .* refuses every one of \d+ generated values of sku, e\.g\. .*--sample N/,
      );
      expect(stderr).toMatch(/report written to /);
      const html = fs.readFileSync(file, 'utf8');
      expect(html).toMatch(/<title>tandem rehearse parts-note: FAILED<\/title>/);
      expect(html.indexOf('parts_sku_format')).toBeGreaterThan(-1);
      expect(html.indexOf('id="failures"')).toBeLessThan(html.indexOf('id="log"'));
      expect(html).toMatch(/started a scratch PostgreSQL/);
    });

    it('a rehearsal whose verdict is FAILED puts the failures before the totals', async () => {
      const file = path.join(dir(), 'report.html');
      const { code } = await runCli([
        'rehearse',
        path.join(BILLING, 'invoices-cents-lossy.yaml'),
        '--schema',
        path.join(BILLING, 'schema.sql'),
        '--rows',
        '200',
        '--step-ms',
        '100',
        '--report',
        file,
      ]);
      expect(code).toBe(1);
      const html = fs.readFileSync(file, 'utf8');
      expect(html).toMatch(/id="verdict">FAILED/);
      expect(html.indexOf('id="failures"')).toBeGreaterThan(-1);
      expect(html.indexOf('id="failures"')).toBeLessThan(html.indexOf('id="totals"'));
      expect(html).toMatch(/LOST ON ROLLBACK/);
    });
  });
});
