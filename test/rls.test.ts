import { backfill, contract, expand, validateLive, verify } from '../executor';
import { connect } from '../executor/connection';
import { RowsHiddenError } from '../executor/errors';
import { freshDatabase, sql } from './db';
import { runCli } from './cli-run';
import { createCustomers, splitSpec, SPLIT_SPEC_PATH } from './fixtures';
import { asRole, createMigrator, createRole } from './roles';

/**
 * Row-level security can hide rows from the migrator: backfill and verify would see part of the
 * table, and contract would drop the hidden rows' full_name. Every step refuses unless the
 * migrator really sees every row.
 */

/** customers owned by the migrator, 20 rows, the even ids hidden by a policy when RLS applies to it. */
async function hiddenRowsTable(admin: string, migrator: string, force: boolean): Promise<string> {
  const url = asRole(admin, migrator);
  await createCustomers(url, 20);
  await sql(
    url,
    `ALTER TABLE customers ENABLE ROW LEVEL SECURITY; CREATE POLICY odd_only ON customers USING (id % 2 = 1)`,
  );
  if (force) await sql(url, `ALTER TABLE customers FORCE ROW LEVEL SECURITY`);
  return url;
}

describe('row-level security that hides rows from the migrator', () => {
  let admin: string;
  beforeEach(async () => {
    admin = await freshDatabase('rls');
  });

  it('FORCE on the owner: validate and expand refuse (exit 1), naming the policy and the way out; nothing changes', async () => {
    const migrator = await createMigrator(admin);
    const url = await hiddenRowsTable(admin, migrator, true);
    for (const command of ['validate', 'expand']) {
      const r = await runCli([command, SPLIT_SPEC_PATH, '--json'], { DATABASE_URL: url });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/policy "odd_only"/);
      expect(r.stderr).toMatch(/ALTER TABLE public\.customers NO FORCE ROW LEVEL SECURITY/);
      expect(r.stderr).toMatch(/BYPASSRLS/);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({
        ok: false,
        exit_code: 1,
        error: { kind: 'rows_hidden', table: 'public.customers', role: migrator },
      });
    }
    const cols = await sql(
      admin,
      `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attname = 'first_name'`,
    );
    expect(cols[0].n).toBe(0);
  });

  it('RLS enabled with no policy at all hides every row from a FORCEd owner: refused, saying so', async () => {
    const migrator = await createMigrator(admin);
    const url = asRole(admin, migrator);
    await createCustomers(url, 5);
    await sql(url, `ALTER TABLE customers ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY`);
    await expect(expand(splitSpec(), { databaseUrl: url })).rejects.toThrow(
      /enabled with no policy, which hides every row/,
    );
  });

  it("a non-owner (the analysis Job's role) under ENABLE: verify refuses instead of passing on the rows it sees", async () => {
    const migrator = await createMigrator(admin);
    const url = await hiddenRowsTable(admin, migrator, false);
    const reader = await createRole(admin, 'reader');
    await sql(url, `GRANT SELECT ON customers TO "${reader}"`);
    await expand(splitSpec(), { databaseUrl: url }); // the owner without FORCE sees every row
    await backfill(splitSpec(), { databaseUrl: url });
    await sql(admin, `GRANT USAGE ON SCHEMA tandem TO "${reader}"; GRANT SELECT ON tandem.migrations TO "${reader}"`);
    await expect(verify(splitSpec(), { databaseUrl: asRole(admin, reader) })).rejects.toThrow(RowsHiddenError);
    await expect(verify(splitSpec(), { databaseUrl: asRole(admin, reader) })).rejects.toThrow(
      /the migrator does not own it .*ALTER ROLE .* BYPASSRLS/,
    );
  });

  it('a policy added after expand: backfill, verify and contract refuse, and full_name survives for every row', async () => {
    const migrator = await createMigrator(admin);
    const url = asRole(admin, migrator);
    await createCustomers(url, 20);
    await expand(splitSpec(), { databaseUrl: url });
    await backfill(splitSpec(), { databaseUrl: url });
    await sql(
      url,
      `ALTER TABLE customers ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY; CREATE POLICY odd_only ON customers USING (id % 2 = 1)`,
    );
    await expect(verify(splitSpec(), { databaseUrl: url })).rejects.toThrow(RowsHiddenError);
    await expect(backfill(splitSpec(), { databaseUrl: url })).rejects.toThrow(RowsHiddenError);
    await expect(contract(splitSpec(), { databaseUrl: url })).rejects.toThrow(RowsHiddenError);
    const left = await sql(admin, `SELECT count(full_name)::int AS n FROM customers`);
    expect(left[0].n).toBe(20);
  });

  it('RLS on a partition of a partitioned table is refused too, naming the partition', async () => {
    const migrator = await createMigrator(admin);
    const url = asRole(admin, migrator);
    await sql(
      url,
      `CREATE TABLE customers (id bigint NOT NULL, full_name text NOT NULL, email text, PRIMARY KEY (id)) PARTITION BY RANGE (id);
       CREATE TABLE customers_a PARTITION OF customers FOR VALUES FROM (0) TO (100);
       CREATE TABLE customers_b PARTITION OF customers FOR VALUES FROM (100) TO (200);
       INSERT INTO customers SELECT g, 'A' || g || ' B', NULL FROM generate_series(1, 150) g;
       ALTER TABLE customers_b ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;`,
    );
    await expect(validateLive(splitSpec(), { databaseUrl: url })).rejects.toThrow(
      /partition public\.customers_b: enabled with no policy/,
    );
  });

  it('a superuser, a BYPASSRLS role, and an owner without FORCE see every row: the migration runs', async () => {
    const bypass = await createMigrator(admin, 'bypass', 'NOSUPERUSER BYPASSRLS');
    const url = await hiddenRowsTable(admin, bypass, true);
    await expand(splitSpec(), { databaseUrl: url });
    expect(await backfill(splitSpec(), { databaseUrl: url })).toMatchObject({ rowsUpdated: 20 });
    expect(await verify(splitSpec(), { databaseUrl: url })).toMatchObject({ ok: true, rows: 20 });
    const other = await freshDatabase('rls_su');
    await createCustomers(other, 20);
    await sql(
      other,
      `ALTER TABLE customers ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY; CREATE POLICY odd_only ON customers USING (id % 2 = 1)`,
    );
    await expand(splitSpec(), { databaseUrl: other }); // postgres, a superuser
    expect(await backfill(splitSpec(), { databaseUrl: other })).toMatchObject({ rowsUpdated: 20 });
  });

  it('executor sessions run with row_security = off: a policy that would filter raises instead of hiding rows', async () => {
    const migrator = await createMigrator(admin);
    await hiddenRowsTable(admin, migrator, false);
    const reader = await createRole(admin, 'reader');
    await sql(asRole(admin, migrator), `GRANT SELECT ON customers TO "${reader}"`);
    const client = await connect(asRole(admin, reader));
    try {
      await expect(client.query(`SELECT count(*) FROM customers`)).rejects.toThrow(/row-level security/);
    } finally {
      await client.end();
    }
  });
});
