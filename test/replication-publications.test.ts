import { Client } from 'pg';
import { backfill, expand, verify } from '../executor';
import { ScratchPostgres, startScratchPostgres } from '../rehearsal/scratch-postgres';
import { runCli } from './cli-run';
import { freshDatabase, sql } from './db';
import { createCustomers, splitSpec, SPLIT_SPEC_PATH } from './fixtures';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * Logical replication is never broken silently. A publication that sends every column of the
 * table (FOR TABLE without a column list, FOR TABLES IN SCHEMA, FOR ALL TABLES, which also sends
 * Tandem's own state tables) would send subscribers the columns expand adds, which their tables
 * lack, and stop their replication: validate and expand refuse, naming it and the way to keep it
 * running. A publication with a column list keeps running (shown with a real subscription), and a
 * table that is a subscription's target is refused (its apply worker's writes skip the trigger).
 */
async function untouched(url: string): Promise<void> {
  expect(
    await sql(
      url,
      `SELECT attname FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attname LIKE '%name' AND attname <> 'full_name' AND NOT attisdropped`,
    ),
  ).toEqual([]);
  expect(await sql(url, `SELECT 1 FROM pg_namespace WHERE nspname = 'tandem'`)).toEqual([]);
}

describe('publications on the table, refused before expand', () => {
  it.each([
    [
      'FOR TABLE without a column list',
      'CREATE PUBLICATION pub_all_cols FOR TABLE customers',
      'pub_all_cols',
      /publication pub_all_cols publishes every column of public\.customers, so its subscribers would receive the columns expand adds \(first_name, last_name, _tandem_pending, .*give it a column list/,
    ],
    [
      'FOR TABLES IN SCHEMA',
      'CREATE PUBLICATION pub_schema FOR TABLES IN SCHEMA public',
      'pub_schema',
      /publication pub_schema publishes every column of the tables in schema public \(FOR TABLES IN SCHEMA/,
    ],
    [
      'FOR ALL TABLES',
      'CREATE PUBLICATION pub_everything FOR ALL TABLES',
      'pub_everything',
      /publication pub_everything is FOR ALL TABLES: .*Tandem's state tables \(tandem\.migrations\)/,
    ],
  ])('%s: validate and expand exit 1 naming it, nothing changed', async (_what, create, name, why) => {
    const url = await freshDatabase('pub');
    await createCustomers(url, 5);
    await sql(url, create);
    const v = await runCli(['validate', SPLIT_SPEC_PATH, '--json'], { DATABASE_URL: url });
    expect(v.code).toBe(1);
    const err = JSON.parse(v.stdout).error;
    expect(err).toMatchObject({
      kind: 'replication',
      table: 'public.customers',
      publications: [name],
      subscriptions: [],
    });
    expect(err.message).toMatch(why);
    const e = await runCli(['expand', SPLIT_SPEC_PATH], { DATABASE_URL: url });
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/expand of public\.customers refused: logical replication would break/);
    await untouched(url);
  });

  it('FOR ALL TABLES refuses even a spec that adds no column of its own (the state tables would be published)', async () => {
    const url = await freshDatabase('puball');
    await createCustomers(url, 5);
    await sql(url, 'CREATE PUBLICATION pub_everything FOR ALL TABLES');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-pub-'));
    const file = path.join(dir, 'index.yaml');
    fs.writeFileSync(
      file,
      `name: customers-email-idx\ntable: customers\noperations:\n  - create_index: { name: customers_email_idx, columns: [email] }\n`,
    );
    const r = await runCli(['expand', file], { DATABASE_URL: url });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/publication pub_everything is FOR ALL TABLES/);
    expect(await sql(url, `SELECT 1 FROM pg_class WHERE relname = 'customers_email_idx'`)).toEqual([]);
  });

  it('a spec that names no table (it creates its own) is refused under FOR ALL TABLES or a publication of the state schema, and runs under one of another table', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-pub-'));
    const file = path.join(dir, 'tags.yaml');
    fs.writeFileSync(
      file,
      `name: create-tags\noperations:\n  - create_table: { name: tags, columns: [{ name: id, type: bigint }, { name: label, type: text }], primary_key: [id] }\n`,
    );
    for (const [create, name] of [
      ['CREATE PUBLICATION pub_everything FOR ALL TABLES', 'pub_everything'],
      ['CREATE SCHEMA tandem; CREATE PUBLICATION pub_state FOR TABLES IN SCHEMA tandem', 'pub_state'],
    ]) {
      const url = await freshDatabase('pubnotable');
      await sql(url, create);
      const r = await runCli(['expand', file, '--json'], { DATABASE_URL: url });
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).error).toMatchObject({ kind: 'replication', publications: [name] });
      expect(JSON.parse(r.stdout).error.message).not.toMatch(/columns expand adds/);
      expect(await sql(url, `SELECT 1 FROM pg_class WHERE relname = 'tags'`)).toEqual([]);
    }
    const url = await freshDatabase('pubother');
    await createCustomers(url, 5);
    await sql(url, 'CREATE PUBLICATION pub_customers FOR TABLE customers');
    expect((await runCli(['expand', file], { DATABASE_URL: url })).code).toBe(0);
  });

  it('the SQL it advises names an odd publication name as PostgreSQL reads it (quoted)', async () => {
    const url = await freshDatabase('pubodd');
    await sql(
      url,
      `CREATE TABLE "Customers" (id int PRIMARY KEY, full_name text); CREATE PUBLICATION "Orders ""Feed""" FOR TABLE "Customers"`,
    );
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-pubodd-')), 'odd.yaml');
    fs.writeFileSync(file, `name: odd\ntable: Customers\noperations:\n  - add_column: { name: note, type: text }\n`);
    const v = await runCli(['validate', file, '--json'], { DATABASE_URL: url });
    expect(v.code).toBe(1);
    expect(JSON.parse(v.stdout).error.message).toContain(
      'ALTER PUBLICATION "Orders ""Feed""" SET TABLE "public"."Customers" (col, ...)',
    );
  });

  it('a publication of other tables only, or with a column list for this one, lets expand go on', async () => {
    const url = await freshDatabase('pubok');
    await createCustomers(url, 5);
    await sql(
      url,
      `CREATE TABLE other (id int PRIMARY KEY); CREATE PUBLICATION pub_other FOR TABLE other; CREATE PUBLICATION pub_listed FOR TABLE customers (id, full_name, email)`,
    );
    expect((await expand(splitSpec(), { databaseUrl: url })).step).toBe('expanded');
    // The column list still sends only what it listed.
    expect(
      await sql(url, `SELECT attnames::text[] AS cols FROM pg_publication_tables WHERE pubname = 'pub_listed'`),
    ).toEqual([{ cols: ['id', 'full_name', 'email'] }]);
  });
});

describe('with a real subscription (wal_level = logical)', () => {
  let server: ScratchPostgres;
  let pubUrl: string;
  let subUrl: string;

  beforeAll(async () => {
    server = await startScratchPostgres({ settings: { wal_level: 'logical' } });
    await sql(server.url, 'CREATE DATABASE pubdb');
    await sql(server.url, 'CREATE DATABASE subdb');
    pubUrl = server.urlFor('pubdb');
    subUrl = server.urlFor('subdb');
    await createCustomers(pubUrl, 20);
    await createCustomers(subUrl, 0);
    await sql(pubUrl, `CREATE PUBLICATION pub_listed FOR TABLE customers (id, full_name, email)`);
    await sql(pubUrl, `SELECT pg_create_logical_replication_slot('sub_listed', 'pgoutput')`);
    // In one cluster the slot is made beforehand (CREATE SUBSCRIPTION would wait on itself).
    await sql(
      subUrl,
      `CREATE SUBSCRIPTION sub_listed CONNECTION 'host=127.0.0.1 port=${server.port} dbname=pubdb user=postgres' PUBLICATION pub_listed WITH (create_slot = false, slot_name = 'sub_listed')`,
    );
    await until(async () => (await sql(subUrl, 'SELECT count(*)::int AS n FROM customers'))[0].n === 20);
  }, 120_000);

  afterAll(async () => {
    await sql(subUrl, 'ALTER SUBSCRIPTION sub_listed DISABLE').catch(() => undefined);
    await sql(subUrl, 'ALTER SUBSCRIPTION sub_listed SET (slot_name = NONE)').catch(() => undefined);
    await sql(subUrl, 'DROP SUBSCRIPTION sub_listed').catch(() => undefined);
    await server?.stop();
  });

  async function until(check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 600; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('timed out waiting for replication');
  }

  it('the table a subscription writes into is refused, naming the subscription', async () => {
    const r = await runCli(['validate', SPLIT_SPEC_PATH, '--json'], { DATABASE_URL: subUrl });
    expect(r.code).toBe(1);
    const err = JSON.parse(r.stdout).error;
    expect(err).toMatchObject({ kind: 'replication', subscriptions: ['sub_listed'], publications: [] });
    expect(err.message).toMatch(
      /public\.customers is a target of subscription sub_listed: the rows its apply worker writes do not fire the sync trigger/,
    );
  });

  it('with a column list, expand and backfill on the publisher keep replication running', async () => {
    const spec = splitSpec();
    await expand(spec, { databaseUrl: pubUrl });
    await backfill(spec, { databaseUrl: pubUrl });
    expect((await verify(spec, { databaseUrl: pubUrl })).ok).toBe(true);
    const app = new Client({ connectionString: pubUrl });
    await app.connect();
    try {
      await app.query(`INSERT INTO customers (full_name, email) VALUES ('Ada Lovelace', 'ada@example.com')`);
      await app.query(`UPDATE customers SET email = 'one@example.com' WHERE id = 1`);
    } finally {
      await app.end();
    }
    await until(
      async () =>
        (
          await sql(
            subUrl,
            `SELECT count(*)::int AS n FROM customers WHERE full_name = 'Ada Lovelace' OR email = 'one@example.com'`,
          )
        )[0].n === 2,
    );
    // The subscription's worker is running, not failing over and over.
    expect(
      await sql(subUrl, `SELECT subname FROM pg_stat_subscription WHERE subname = 'sub_listed' AND pid IS NOT NULL`),
    ).toEqual([{ subname: 'sub_listed' }]);
  });
});
