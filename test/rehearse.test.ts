import { RefusedError } from '../phases/errors';
import { parseSpec } from '../phases/sql/spec';
import { loadSpecFile } from '../executor/spec-file';
import * as path from 'path';
import { rehearse, RehearsalEvent } from '../rehearsal/rehearse';
import { REHEARSAL_STAGES } from '../rehearsal/rehearsal-report';
import { customersTableSql } from '../rehearsal/demo-database';
import { freshDatabase, sql } from './db';
import * as fs from 'fs';
import { SPLIT_SPEC_PATH, splitSpec } from './fixtures';

/** Small and quick: the shape of the run matters here, not its size. */
const SMALL = { rows: 500, stepMs: 200, workers: 4, opsPerSecond: 300 };

describe('rehearse on a given scratch database', () => {
  it('runs every stage with the right versions, loses no write, and removes what it created', async () => {
    const url = await freshDatabase('rehearse');
    const events: RehearsalEvent[] = [];
    const report = await rehearse(splitSpec(), { ...SMALL, databaseUrl: url, onEvent: (e) => events.push(e) });

    expect(report).toMatchObject({
      ok: true,
      database: 'given',
      failed_writes: 0,
      failed_reads: 0,
      lost_or_altered_writes: 0,
      rows: 500,
    });
    expect(report.stages.map((s) => [s.stage, s.versions.join('+')])).toEqual([
      ['baseline', 'v1'],
      ['expand', 'v1'],
      ['backfill', 'v1'],
      ['dual-write', 'v1+v2'],
      ['cleanup', 'v2+v3'],
      ['contract', 'v3'],
    ]);
    expect(report.stages.every((s) => s.writes > 0 && s.p99_ms >= s.p50_ms)).toBe(true);
    expect(report.stages.find((s) => s.stage === 'dual-write')?.canary?.map((c) => c.weights)).toEqual([
      { v1: 90, v2: 10 },
      { v1: 50, v2: 50 },
      { v1: 10, v2: 90 },
      { v1: 0, v2: 100 },
    ]);
    expect(report.acknowledged_writes).toBe(report.stages.reduce((s, st) => s + st.writes, 0) + 1);
    expect(report.backfill.rows).toBeGreaterThan(0);
    expect(report.backfill_rows_per_s).toBeGreaterThan(0);
    expect(report.checks.map((c) => [c.label, c.mismatches])).toEqual([
      ['after baseline', 0],
      ['after backfill', 0],
      ['after dual-write', 0],
      ['after cleanup', 0],
      ['after contract', 0],
    ]);
    expect(report.new_customer).toMatchObject({ name: 'John Vin', first_name: 'John', last_name: 'Vin' });
    expect(report.app_role).toMatch(/^tandem_rehearsal_app_/);
    expect(events.filter((e) => e.kind === 'stage').map((e) => (e as { stage: string }).stage)).toEqual(
      expect.arrayContaining([...REHEARSAL_STAGES]),
    );

    const [left] = await sql(
      url,
      `SELECT to_regclass('customers') AS t, (SELECT count(*)::int FROM tandem.migrations) AS m,
              (SELECT count(*)::int FROM pg_roles WHERE rolname = $1) AS r`,
      [report.app_role],
    );
    expect(left).toEqual({ t: null, m: 0, r: 0 });
  });

  it('refuses a database that already has a customers table, and leaves its rows alone', async () => {
    const url = await freshDatabase('rehearse_refuse');
    await sql(url, `${customersTableSql()}; INSERT INTO customers (full_name) VALUES ('Precious Data')`);
    const attempt = rehearse(splitSpec(), { ...SMALL, databaseUrl: url });
    await expect(attempt).rejects.toBeInstanceOf(RefusedError);
    await expect(attempt).rejects.toThrow(/customers already exists/);
    expect(await sql(url, 'SELECT full_name FROM customers')).toEqual([{ full_name: 'Precious Data' }]);
  });

  it('names the stage an executor step failed in, and still removes what it created', async () => {
    const url = await freshDatabase('rehearse_fail');
    // An up expression that fails at run time on every name: the backfill cannot pass.
    const text = fs
      .readFileSync(SPLIT_SPEC_PATH, 'utf8')
      .replace(`up: "split_part(full_name, ' ', 1)"`, `up: "(split_part(full_name, ' ', 1)::int)::text"`);
    expect(text).toContain('::int');
    await expect(rehearse(parseSpec(text), { ...SMALL, databaseUrl: url })).rejects.toThrow(
      /^the rehearsal stopped in (expand|backfill): .*invalid input syntax for type integer/,
    );
    // An `up` that raises never fails a write (the sync trigger flags the row), so expand passes and the
    // backfill stops; the rehearsal removes its table, function and migration record.
    const [left] = await sql(
      url,
      `SELECT to_regclass('customers') AS t, to_regprocedure('tandem.sync_split_full_name()') AS f`,
    );
    expect(left).toEqual({ t: null, f: null });
    const [rec] = await sql(url, `SELECT count(*)::int AS n FROM tandem.migrations WHERE name = 'split-full-name'`);
    expect(rec).toEqual({ n: 0 });
  });

  it('rehearses any other spec in an empty database given with --database-url, and leaves it as empty as it found it', async () => {
    const url = await freshDatabase('rehearse_generic_given');
    const empty = async () =>
      sql(
        url,
        `SELECT (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%') AS relations,
                                              (SELECT count(*)::int FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%') AS schemas,
                                              (SELECT count(*)::int FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%') AS types,
                                              (SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%') AS functions,
                                              (SELECT count(*)::int FROM pg_roles WHERE rolname LIKE 'tandem_rehearsal_app%') AS roles`,
      );
    const before = await empty();
    expect(before).toEqual([{ relations: 0, schemas: 0, types: 0, functions: 0, roles: 0 }]);
    const report = await rehearse(loadSpecFile(path.join(__dirname, '..', 'migrations', 'split-and-index.yaml')), {
      ...SMALL,
      databaseUrl: url,
      schemaFile: path.join(__dirname, '..', 'migrations', 'split-and-index.schema.sql'),
    });
    expect(report).toMatchObject({ ok: true, database: 'given', failed_writes: 0, lost_or_altered_writes: 0 });
    expect(await empty()).toEqual(before);
  });

  it('refuses a database that is not empty for any other spec, and leaves it alone', async () => {
    const spec = parseSpec('name: x\ntable: people\noperations:\n  - rename_column: {from: full_name, to: name}\n');
    const url = await freshDatabase('rehearse_generic_refuse');
    await sql(url, `CREATE TABLE invoices (id int PRIMARY KEY); INSERT INTO invoices VALUES (1)`);
    const attempt = rehearse(spec, { ...SMALL, databaseUrl: url });
    await expect(attempt).rejects.toBeInstanceOf(RefusedError);
    await expect(attempt).rejects.toThrow(
      /that database is not empty \(it has relation invoices.*\); .*needs an empty database of its own/,
    );
    expect(await sql(url, `SELECT count(*)::int AS n FROM invoices`)).toEqual([{ n: 1 }]);
    expect(await sql(url, `SELECT to_regclass('people') AS t`)).toEqual([{ t: null }]);
  });
});

describe('rehearse on its default, a throwaway PostgreSQL from the local binaries', () => {
  it('starts its own server, passes, and says so', async () => {
    const report = await rehearse(splitSpec(), { ...SMALL, rows: 200 });
    expect(report).toMatchObject({
      ok: true,
      database: 'scratch',
      app_role: 'customers_app',
      failed_writes: 0,
      lost_or_altered_writes: 0,
    });
    expect(report.stages).toHaveLength(REHEARSAL_STAGES.length);
  });
});
