import { backfill, contract, expand, validateLive, verify } from '../executor';
import { TableShapeError } from '../executor/errors';
import { freshDatabase, sql } from './db';
import { runCli } from './cli-run';
import { splitSpec, SPLIT_SPEC_PATH } from './fixtures';

/**
 * ALTER, backfill and verify recurse into inheritance children, but the sync trigger does not
 * fire for writes to them: refused, naming the children. Declarative partitions are covered:
 * the trigger lives on the partitioned table and PostgreSQL clones it to every partition.
 */
describe('inheritance children', () => {
  it('a table with inheritance children: validate and expand refuse (exit 1), naming them; nothing changes', async () => {
    const url = await freshDatabase('inh');
    await sql(
      url,
      `CREATE TABLE customers (id bigint PRIMARY KEY, full_name text NOT NULL, email text);
       CREATE TABLE vip_customers (perks text) INHERITS (customers);
       CREATE TABLE old_customers () INHERITS (customers);
       INSERT INTO customers VALUES (1, 'Ada Lovelace', NULL); INSERT INTO vip_customers VALUES (2, 'Alan Turing', NULL, 'tea');`,
    );
    for (const command of ['validate', 'expand']) {
      const r = await runCli([command, SPLIT_SPEC_PATH, '--json'], { DATABASE_URL: url });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /public\.customers has inheritance children \(public\.old_customers, public\.vip_customers\)/,
      );
      expect(JSON.parse(r.stdout)).toMatchObject({
        ok: false,
        exit_code: 1,
        error: { kind: 'table_shape', objects: ['public.old_customers', 'public.vip_customers'] },
      });
    }
    const cols = await sql(
      url,
      `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'vip_customers'::regclass AND attname = 'first_name'`,
    );
    expect(cols[0].n).toBe(0);
  });

  it('a child added after expand makes the later steps refuse', async () => {
    const url = await freshDatabase('inh2');
    await sql(
      url,
      `CREATE TABLE customers (id bigint PRIMARY KEY, full_name text NOT NULL, email text); INSERT INTO customers VALUES (1, 'Ada Lovelace', NULL);`,
    );
    await expand(splitSpec(), { databaseUrl: url });
    await sql(url, `CREATE TABLE vip_customers () INHERITS (customers)`);
    await expect(backfill(splitSpec(), { databaseUrl: url })).rejects.toThrow(TableShapeError);
    await expect(verify(splitSpec(), { databaseUrl: url })).rejects.toThrow(
      /inheritance children \(public\.vip_customers\)/,
    );
  });

  it('a table that inherits from another, and a single partition, are refused with the table to migrate instead', async () => {
    const url = await freshDatabase('inh3');
    await sql(
      url,
      `CREATE TABLE people (id bigint PRIMARY KEY, full_name text NOT NULL, email text);
       CREATE TABLE customers (PRIMARY KEY (id)) INHERITS (people);`,
    );
    await expect(validateLive(splitSpec(), { databaseUrl: url })).rejects.toThrow(
      /public\.customers inherits from public\.people/,
    );
    const url2 = await freshDatabase('inh4');
    await sql(
      url2,
      `CREATE TABLE all_customers (id bigint, full_name text NOT NULL, email text, PRIMARY KEY (id)) PARTITION BY RANGE (id);
       CREATE TABLE customers PARTITION OF all_customers FOR VALUES FROM (0) TO (100);`,
    );
    await expect(validateLive(splitSpec(), { databaseUrl: url2 })).rejects.toThrow(
      /public\.customers is a partition of public\.all_customers: run the migration on the partitioned table/,
    );
  });

  it('a rewrite rule on the table is refused: it could turn the backfill into nothing', async () => {
    const url = await freshDatabase('rule');
    await sql(
      url,
      `CREATE TABLE customers (id bigint PRIMARY KEY, full_name text NOT NULL, email text);
       CREATE RULE no_updates AS ON UPDATE TO customers DO INSTEAD NOTHING;`,
    );
    await expect(expand(splitSpec(), { databaseUrl: url })).rejects.toThrow(/has rewrite rules \(no_updates\)/);
  });
});

describe('partitioned tables', () => {
  it('work: the trigger is on the partitioned table and cloned to each partition; writes to a partition directly are synced; the cycle completes', async () => {
    const url = await freshDatabase('part');
    await sql(
      url,
      `CREATE TABLE customers (id bigint NOT NULL, full_name text NOT NULL, email text, PRIMARY KEY (id)) PARTITION BY RANGE (id);
       CREATE TABLE customers_a PARTITION OF customers FOR VALUES FROM (0) TO (100);
       CREATE TABLE customers_b PARTITION OF customers FOR VALUES FROM (100) TO (1000);
       INSERT INTO customers SELECT g, 'First' || g || ' Last' || g, NULL FROM generate_series(1, 300) g;`,
    );
    const spec = splitSpec();
    await expand(spec, { databaseUrl: url });
    const triggers = await sql(
      url,
      `SELECT c.relname, t.tgparentid <> 0 AS cloned FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = 'zz_tandem_sync_split_full_name' ORDER BY 1`,
    );
    expect(triggers).toEqual([
      { relname: 'customers', cloned: false },
      { relname: 'customers_a', cloned: true },
      { relname: 'customers_b', cloned: true },
    ]);
    await sql(
      url,
      `INSERT INTO customers_b (id, full_name) VALUES (500, 'Grace Hopper'); UPDATE customers_a SET full_name = 'Ada Lovelace' WHERE id = 1`,
    );
    await sql(url, `INSERT INTO customers (id, first_name, last_name) VALUES (501, 'Edsger', 'Dijkstra')`);
    expect(await backfill(spec, { databaseUrl: url })).toMatchObject({ complete: true });
    expect(await verify(spec, { databaseUrl: url })).toMatchObject({ ok: true, rows: 302 });
    expect(
      await sql(
        url,
        `SELECT id, full_name, first_name, last_name FROM customers WHERE id IN (1, 500, 501) ORDER BY id`,
      ),
    ).toEqual([
      { id: '1', full_name: 'Ada Lovelace', first_name: 'Ada', last_name: 'Lovelace' },
      { id: '500', full_name: 'Grace Hopper', first_name: 'Grace', last_name: 'Hopper' },
      { id: '501', full_name: 'Edsger Dijkstra', first_name: 'Edsger', last_name: 'Dijkstra' },
    ]);
    await contract(spec, { databaseUrl: url });
    const left = await sql(
      url,
      `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid IN ('customers_a'::regclass, 'customers_b'::regclass) AND attname = 'full_name' AND NOT attisdropped`,
    );
    expect(left[0].n).toBe(0);
  });
});
