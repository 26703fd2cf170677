import * as fs from 'fs';
import * as path from 'path';
import { parseSpec } from '../phases/sql/spec';
import { loadSpecFile } from '../executor/spec-file';
import { rehearse } from '../rehearsal/rehearse';
import { RehearsalReport } from '../rehearsal/rehearsal-report';
import { freshDatabase, sql } from './db';

const SHOP = path.join(__dirname, 'fixtures', 'shop');
const SHOP_SCHEMA = path.join(SHOP, 'schema.sql');
const MIGRATIONS = path.join(__dirname, '..', 'migrations');
/** Small and quick: the shape of the run matters here, not its size. */
const SMALL = { rows: 300, stepMs: 150, workers: 4, opsPerSecond: 300 };

function expectClean(report: RehearsalReport): void {
  expect({
    failed: report.failure_samples,
    mismatches: report.mismatch_samples,
    defects: report.round_trip?.flatMap((r) => r.defect_examples),
  }).toEqual({ failed: [], mismatches: [], defects: [] });
  expect(report).toMatchObject({
    ok: true,
    failed_writes: 0,
    failed_reads: 0,
    lost_or_altered_writes: 0,
    spec_defects: 0,
    lost_on_rollback: { count: 0 },
  });
  expect(report.stages.map((s) => [s.stage, s.versions.join('+')])).toEqual([
    ['baseline', 'v1'],
    ['expand', 'v1'],
    ['backfill', 'v1'],
    ['dual-write', 'v1+v2'],
    ['cleanup', 'v2+v3'],
    ['contract', 'v3'],
  ]);
  expect(report.checks.map((c) => [c.label, c.mismatches])).toEqual([
    ['after baseline', 0],
    ['after backfill', 0],
    ['after dual-write', 0],
    ['after cleanup', 0],
    ['after contract', 0],
  ]);
  expect(report.checks.every((c) => c.checked > 0)).toBe(true);
}

describe("rehearse any spec on a schema of the user's (--schema FILE)", () => {
  it('passes on a shop schema: change_type to cents and a rename, inserts, updates, repeats, deletes and multi-row transactions', async () => {
    const report = await rehearse(loadSpecFile(path.join(SHOP, 'orders-cents.yaml')), {
      ...SMALL,
      schemaFile: SHOP_SCHEMA,
    });
    expectClean(report);
    expect(report.schema).toEqual({ source: 'file', table: 'shop.orders', tables: [], rows: 'generated' });
    expect(report.backfill.rows).toBeGreaterThan(0);
    // Variations of the new column that down cannot carry back (negative cents break the domain's CHECK): a risk, not a failure.
    const cents = report.round_trip!.find((r) => r.operation.startsWith('change_type'))!;
    expect(cents.rollback_risks).toBeGreaterThan(0);
    expect(cents.risk_examples.join('\n')).toMatch(/amount_check|overflow/);
  });

  it('fails with exit-worthy defects when down drops the pennies, naming the values and the lost writes', async () => {
    const report = await rehearse(loadSpecFile(path.join(SHOP, 'orders-cents-lossy.yaml')), {
      ...SMALL,
      schemaFile: SHOP_SCHEMA,
    });
    expect(report.ok).toBe(false);
    expect(report.spec_defects).toBeGreaterThan(0);
    const cents = report.round_trip!.find((r) => r.operation.startsWith('change_type'))!;
    // e.g. up of {"total":"19.99"} is {"total_cents":"1999"}, down gives {"total":"19.00"}, and up of that is {"total_cents":"1900"}
    expect(cents.defect_examples[0]).toMatch(
      /up of \{"total":"\d+\.\d\d"\} is \{"total_cents":"\d+"\}, down gives \{"total":"\d+\.00"\}, and up of that is \{"total_cents":"\d+00"\}/,
    );
    expect(report.lost_on_rollback!.count).toBeGreaterThan(0);
    const lost = report.lost_on_rollback!.samples[0];
    expect(['v2', 'v3']).toContain(lost.version);
    expect(Number(lost.rollback_gives.total_cents) % 100).toBe(0);
    expect(lost.wrote.total_cents).not.toBe(lost.rollback_gives.total_cents);
  });
});

describe('rehearse a spec that adds a CHECK on a table with IN-list and range CHECKs, a foreign key and identity keys (--schema, default --rows)', () => {
  const BILLING = path.join(__dirname, 'fixtures', 'billing');
  const QUICK = { stepMs: 150, workers: 4, opsPerSecond: 300 };

  it('passes, with every one of the 10,000 default rows generated', async () => {
    const report = await rehearse(loadSpecFile(path.join(BILLING, 'invoices-cents.yaml')), {
      ...QUICK,
      schemaFile: path.join(BILLING, 'schema.sql'),
    });
    expectClean(report);
    expect(report.rows).toBe(10000);
    expect(report.schema).toEqual({ source: 'file', table: 'billing.invoices', tables: [], rows: 'generated' });
  });

  it("fails when the same spec's down drops the pennies, naming the writes a rollback would lose", async () => {
    const report = await rehearse(loadSpecFile(path.join(BILLING, 'invoices-cents-lossy.yaml')), {
      ...QUICK,
      schemaFile: path.join(BILLING, 'schema.sql'),
    });
    expect(report.ok).toBe(false);
    expect(report.rows).toBe(10000);
    expect(report.lost_on_rollback!.count).toBeGreaterThan(0);
    const lost = report.lost_on_rollback!.samples[0];
    expect(Math.abs(Number(lost.rollback_gives.amount_cents) % 100)).toBe(0);
    expect(lost.wrote.amount_cents).not.toBe(lost.rollback_gives.amount_cents);
  });
});

describe('the data breaks what the spec promises (--schema-from URL --sample N)', () => {
  it('reports it as a finding about the spec or the app, not a Tandem failure, and does not run contract', async () => {
    const BILLING = path.join(__dirname, 'fixtures', 'billing');
    const source = await freshDatabase('rehearse_finding');
    await sql(source, fs.readFileSync(path.join(BILLING, 'schema.sql'), 'utf8'));
    // Real rows: some have quantity 60, which the spec's new CHECK (quantity <= 50) refuses.
    await sql(
      source,
      `INSERT INTO billing.accounts (name) SELECT 'Account ' || g FROM generate_series(1, 5) g;
                       INSERT INTO billing.invoices (account_id, status, amount, quantity, issued_on)
                         SELECT 1 + g % 5, 'sent', g * 1.25, CASE WHEN g % 10 = 0 THEN 60 ELSE 1 + g % 40 END, '2024-01-01'::date + g FROM generate_series(1, 100) g`,
    );
    const report = await rehearse(loadSpecFile(path.join(BILLING, 'invoices-cents.yaml')), {
      ...SMALL,
      schemaFrom: source,
      sample: 100,
    });
    expect(report.ok).toBe(false);
    expect(report).toMatchObject({ failed_writes: 0, failed_reads: 0, lost_or_altered_writes: 0, spec_defects: 0 });
    expect(report.findings).toEqual([
      expect.stringMatching(/^verify before contract: .*add_check invoices_quantity_small: rows that break the check/),
    ]);
  });
});

describe('old-version writes that break the CHECK the spec adds (breakChecks, --break-checks)', () => {
  const BILLING = path.join(__dirname, 'fixtures', 'billing');

  it("new-version writes keep the CHECK; the old version's that break it are what verify reports, as a finding about the spec or the app", async () => {
    const report = await rehearse(loadSpecFile(path.join(BILLING, 'invoices-cents.yaml')), {
      ...SMALL,
      schemaFile: path.join(BILLING, 'schema.sql'),
      breakChecks: 30,
    });
    expect(report.ok).toBe(false);
    // Not a Tandem failure: every write went through and was kept; no spec defect.
    expect(report).toMatchObject({ failed_writes: 0, failed_reads: 0, lost_or_altered_writes: 0, spec_defects: 0 });
    expect(report.old_writes_breaking_spec).toBeGreaterThan(0);
    expect(report.findings).toEqual([
      expect.stringMatching(/^verify before contract: .*add_check invoices_quantity_small: rows that break the check/),
    ]);
    // Contract was not run: the old column is still there for the final check to leave alone.
    expect(report.checks.map((c) => [c.label, c.mismatches])).toEqual([
      ['after baseline', 0],
      ['after backfill', 0],
      ['after dual-write', 0],
      ['after cleanup', 0],
      ['after contract', 0],
    ]);
  });
});

describe('rehearse on the table of a live database (--schema-from URL)', () => {
  it('copies the definition and the tables its foreign keys need, samples real rows, and never writes to the source', async () => {
    const source = await freshDatabase('rehearse_source');
    await sql(source, fs.readFileSync(SHOP_SCHEMA, 'utf8'));
    await sql(
      source,
      `INSERT INTO shop.customers (email, name) SELECT 'c' || g || '@example.com', 'Customer ' || g FROM generate_series(1, 40) g;
       INSERT INTO shop.orders (customer_id, status, total, note)
         SELECT 1 + g % 40, (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4]::shop.order_status, (g * 7.31)::numeric(12,2), CASE WHEN g % 5 = 0 THEN NULL ELSE 'Leave  at the door ' || g END
           FROM generate_series(1, 250) g;`,
    );
    const snapshot = async () =>
      sql(
        source,
        `SELECT (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM shop.orders o) AS orders,
                (SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM shop.customers c) AS customers,
                (SELECT count(*)::int FROM pg_namespace WHERE nspname = 'tandem') AS tandem,
                (SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'shop.orders'::regclass AND attnum > 0 AND NOT attisdropped) AS columns,
                (SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'shop.orders'::regclass) AS triggers`,
      );
    const before = await snapshot();

    const report = await rehearse(loadSpecFile(path.join(SHOP, 'orders-cents.yaml')), {
      ...SMALL,
      schemaFrom: source,
      sample: 120,
    });
    expectClean(report);
    expect(report.schema).toEqual({
      source: 'database',
      table: 'shop.orders',
      tables: ['shop.customers'],
      rows: 'sample',
    });
    expect(report.rows).toBe(120);
    expect(await snapshot()).toEqual(before);
  });

  it('generates rows to fit the copied types and constraints without --sample', async () => {
    const source = await freshDatabase('rehearse_source_gen');
    await sql(source, fs.readFileSync(SHOP_SCHEMA, 'utf8'));
    const report = await rehearse(loadSpecFile(path.join(SHOP, 'orders-cents.yaml')), { ...SMALL, schemaFrom: source });
    expectClean(report);
    expect(report.schema).toMatchObject({ source: 'database', rows: 'generated' });
    expect(await sql(source, `SELECT count(*)::int AS n FROM shop.orders`)).toEqual([{ n: 0 }]);
  });
});

describe('rehearse the example specs with no schema (a table inferred from the spec)', () => {
  it.each(['merge-name.yaml', 'orders-cleanup.yaml'])('%s passes', async (file) => {
    const report = await rehearse(loadSpecFile(path.join(MIGRATIONS, file)), SMALL);
    expectClean(report);
    expect(report.schema?.source).toBe('inferred');
  });

  it('a spec of another table than the demo\'s runs too (no more "not customers")', async () => {
    const spec = parseSpec(
      'name: people-split\ntable: people\noperations:\n  - rename_column: {from: full_name, to: display_name}\n',
    );
    const report = await rehearse(spec, SMALL);
    expectClean(report);
  });
});
