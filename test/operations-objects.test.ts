import * as fs from 'fs';
import * as path from 'path';
import { Client } from 'pg';
import { backfill, contract, expand, planStepSql, rollback, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, withClient } from './db';
import { indexState, snapshotSchema } from './object-snapshot';

/**
 * The object operations in pgroll's harness: start -> rollback -> start -> complete on a real
 * PostgreSQL. Rollback must leave the schema (tables, columns, defaults, indexes, constraints,
 * views, triggers) and the rows exactly as they were. While expanded, an old version's write that
 * the new rule would refuse must succeed (nothing is enforced before contract); verify must report
 * it by key and contract refuse until it is fixed; after contract the rule holds.
 */
interface ObjectCase {
  name: string;
  /** The migrations/ example this case runs, when it is one. */
  example?: string;
  setup: string;
  spec?: string;
  whileExpanded: (c: Client) => Promise<void>;
  /** An old version's write that the new rule refuses after contract: it must succeed now, and verify must name its key. */
  oldWrite?: { sql: string; key: string; fix: string };
  afterContract: (c: Client) => Promise<void>;
}

const one = async (c: Client, q: string, v: unknown[] = []) => (await c.query(q, v)).rows[0];
const count = async (c: Client, q: string) => Number((await c.query(q)).rows[0].n);
const ITEMS = `CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL, price int, note text);
               INSERT INTO items VALUES (1, 'A-1', 10, NULL), (2, 'B-2', 20, 'two'), (3, 'c-3', 30, NULL);`;

const cases: ObjectCase[] = [
  {
    name: 'create_index',
    example: 'create-index.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      expect(await indexState(c, 'items_sku_lower_idx')).toBe('valid');
      expect((await one(c, `SELECT pg_get_indexdef('items_sku_lower_idx'::regclass) AS d`)).d).toBe('CREATE INDEX items_sku_lower_idx ON public.items USING btree (lower(sku), price) INCLUDE (note) WHERE (price > 0)');
    },
    afterContract: async (c) => {
      expect(await indexState(c, 'items_sku_lower_idx')).toBe('valid');
    },
  },
  {
    name: 'create_index unique',
    setup: ITEMS,
    spec: `name: unique-index
table: items
operations:
  - create_index: { name: items_sku_key, columns: [sku], unique: true }`,
    whileExpanded: async (c) => {
      // Built only once the old versions are gone: it would refuse their duplicate writes.
      expect(await indexState(c, 'items_sku_key')).toBe('absent');
    },
    oldWrite: { sql: `INSERT INTO items VALUES (4, 'A-1', 1, NULL)`, key: '4', fix: `UPDATE items SET sku = 'D-4' WHERE id = 4` },
    afterContract: async (c) => {
      expect(await indexState(c, 'items_sku_key')).toBe('valid');
      await expect(c.query(`INSERT INTO items VALUES (5, 'A-1', 1, NULL)`)).rejects.toThrow(/duplicate key/);
    },
  },
  {
    name: 'drop_index',
    example: 'drop-index.yaml',
    setup: `${ITEMS} CREATE INDEX items_note_idx ON items (note);`,
    whileExpanded: async (c) => {
      expect(await indexState(c, 'items_note_idx')).toBe('valid');
    },
    afterContract: async (c) => {
      expect(await indexState(c, 'items_note_idx')).toBe('absent');
    },
  },
  {
    name: 'add_unique',
    example: 'add-unique.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      expect(await indexState(c, 'items_sku_unique')).toBe('absent');
    },
    oldWrite: { sql: `INSERT INTO items VALUES (4, 'B-2', 1, NULL)`, key: '4', fix: `DELETE FROM items WHERE id = 4` },
    afterContract: async (c) => {
      expect(await one(c, `SELECT contype, convalidated FROM pg_constraint WHERE conname = 'items_sku_unique'`)).toEqual({ contype: 'u', convalidated: true });
      await expect(c.query(`INSERT INTO items VALUES (6, 'B-2', 1, NULL)`)).rejects.toThrow(/items_sku_unique/);
    },
  },
  {
    name: 'add_check',
    example: 'add-check.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      expect(await count(c, `SELECT count(*) AS n FROM pg_constraint WHERE conname = 'items_price_positive'`)).toBe(0);
    },
    oldWrite: { sql: `INSERT INTO items VALUES (4, 'D-4', -5, NULL)`, key: '4', fix: `UPDATE items SET price = 5 WHERE id = 4` },
    afterContract: async (c) => {
      expect(await one(c, `SELECT convalidated FROM pg_constraint WHERE conname = 'items_price_positive'`)).toEqual({ convalidated: true });
      await expect(c.query(`INSERT INTO items VALUES (7, 'E-7', -1, NULL)`)).rejects.toThrow(/items_price_positive/);
    },
  },
  {
    name: 'add_foreign_key',
    example: 'add-foreign-key.yaml',
    setup: `CREATE TABLE categories (id int PRIMARY KEY, name text);
            INSERT INTO categories VALUES (1, 'tools'), (2, 'toys');
            CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL, category_id int);
            INSERT INTO items VALUES (1, 'A-1', 1), (2, 'B-2', 2), (3, 'C-3', NULL);`,
    whileExpanded: async (c) => {
      expect(await count(c, `SELECT count(*) AS n FROM pg_constraint WHERE conname = 'items_category_fk'`)).toBe(0);
      // The old versions may still delete a category an item names.
      await c.query(`INSERT INTO categories VALUES (3, 'gone'); INSERT INTO items VALUES (10, 'G-10', 3); DELETE FROM categories WHERE id = 3; DELETE FROM items WHERE id = 10`);
    },
    oldWrite: { sql: `INSERT INTO items VALUES (4, 'D-4', 99)`, key: '4', fix: `INSERT INTO categories VALUES (99, 'misc')` },
    afterContract: async (c) => {
      expect(await one(c, `SELECT contype, convalidated FROM pg_constraint WHERE conname = 'items_category_fk'`)).toEqual({ contype: 'f', convalidated: true });
      await expect(c.query(`INSERT INTO items VALUES (8, 'H-8', 42)`)).rejects.toThrow(/items_category_fk/);
      await c.query(`DELETE FROM categories WHERE id = 99`);
      expect(await count(c, `SELECT count(*) AS n FROM items WHERE id = 4`)).toBe(0); // on_delete: cascade
    },
  },
  {
    name: 'set_not_null',
    example: 'set-not-null.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      // The old versions still write NULL into note; the new versions read note_text, never NULL.
      await c.query(`INSERT INTO items (id, sku, price, note) VALUES (4, 'D-4', 1, NULL)`);
      expect(await one(c, `SELECT note, note_text FROM items WHERE id = 4`)).toEqual({ note: null, note_text: '' });
      await c.query(`INSERT INTO items (id, sku, price, note_text) VALUES (5, 'E-5', 1, 'five')`);
      expect(await one(c, `SELECT note FROM items WHERE id = 5`)).toEqual({ note: 'five' });
    },
    afterContract: async (c) => {
      expect(await one(c, `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'note_text'`)).toEqual({ attnotnull: true });
      expect((await c.query(`SELECT note_text FROM items ORDER BY id`)).rows.map((r) => r.note_text)).toEqual(['', 'two', '', '', 'five']);
    },
  },
  {
    name: 'drop_not_null',
    example: 'drop-not-null.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      // A new version writes NULL; the old versions read the down value in sku, which stays NOT NULL.
      await c.query(`INSERT INTO items (id, price, sku_optional) VALUES (4, 1, NULL)`);
      expect(await one(c, `SELECT sku, sku_optional FROM items WHERE id = 4`)).toEqual({ sku: 'unknown', sku_optional: null });
      await c.query(`INSERT INTO items (id, sku, price) VALUES (5, 'E-5', 1)`);
      expect(await one(c, `SELECT sku_optional FROM items WHERE id = 5`)).toEqual({ sku_optional: 'E-5' });
    },
    afterContract: async (c) => {
      expect(await one(c, `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'sku_optional'`)).toEqual({ attnotnull: false });
      await c.query(`INSERT INTO items (id, price) VALUES (6, 1)`);
    },
  },
  {
    name: 'set_default',
    example: 'set-default.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      // An old version's insert that omits note stores what it always did.
      await c.query(`INSERT INTO items (id, sku) VALUES (4, 'D-4')`);
      expect(await one(c, `SELECT note FROM items WHERE id = 4`)).toEqual({ note: null });
    },
    afterContract: async (c) => {
      await c.query(`INSERT INTO items (id, sku) VALUES (5, 'E-5')`);
      expect(await one(c, `SELECT note FROM items WHERE id = 5`)).toEqual({ note: 'none' });
    },
  },
  {
    name: 'drop_default',
    setup: `CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL, note text DEFAULT 'n/a'); INSERT INTO items VALUES (1, 'A-1', 'one');`,
    spec: `name: drop-default
table: items
operations:
  - drop_default: { column: note }`,
    whileExpanded: async (c) => {
      await c.query(`INSERT INTO items (id, sku) VALUES (4, 'D-4')`);
      expect(await one(c, `SELECT note FROM items WHERE id = 4`)).toEqual({ note: 'n/a' });
    },
    afterContract: async (c) => {
      await c.query(`INSERT INTO items (id, sku) VALUES (5, 'E-5')`);
      expect(await one(c, `SELECT note FROM items WHERE id = 5`)).toEqual({ note: null });
    },
  },
  {
    name: 'create_table',
    example: 'create-table.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      await c.query(`INSERT INTO item_tags (item_id, tag) VALUES (1, 'red')`);
      expect(await one(c, `SELECT item_id, tag, created_at IS NOT NULL AS stamped FROM item_tags`)).toEqual({ item_id: 1, tag: 'red', stamped: true });
      await expect(c.query(`INSERT INTO item_tags (item_id, tag) VALUES (1, 'red')`)).rejects.toThrow(/item_tags_pkey/);
    },
    afterContract: async (c) => {
      expect(await count(c, `SELECT count(*) AS n FROM item_tags`)).toBe(1);
    },
  },
  {
    name: 'drop_table',
    example: 'drop-table.yaml',
    setup: `${ITEMS} CREATE TABLE item_notes_legacy (id int PRIMARY KEY, body text); INSERT INTO item_notes_legacy VALUES (1, 'old');`,
    whileExpanded: async (c) => {
      // The old versions keep using it until contract.
      await c.query(`INSERT INTO item_notes_legacy VALUES (2, 'still written')`);
    },
    afterContract: async (c) => {
      expect((await one(c, `SELECT to_regclass('item_notes_legacy') AS t`)).t).toBeNull();
    },
  },
  {
    name: 'raw_sql',
    example: 'raw-sql.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      expect((await c.query(`SELECT id FROM items_public ORDER BY id`)).rows.map((r) => r.id)).toEqual([1, 2, 3]);
    },
    afterContract: async (c) => {
      expect((await one(c, `SELECT obj_description('items'::regclass, 'pg_class') AS d`)).d).toBe('items, migrated');
    },
  },
  {
    name: 'split, index the new columns, a foreign key on one, drop the old index',
    example: 'split-and-index.yaml',
    setup: `CREATE TABLE countries (code text PRIMARY KEY); INSERT INTO countries VALUES ('GB'), ('US');
            CREATE TABLE customers (id bigint PRIMARY KEY, full_name text NOT NULL, country text);
            CREATE INDEX customers_full_name_idx ON customers (full_name);
            INSERT INTO customers VALUES (1, 'Ada Lovelace', 'GB'), (2, 'Alan  Turing', 'gb'), (3, 'Grace Hopper', 'US');`,
    whileExpanded: async (c) => {
      expect(await indexState(c, 'customers_last_first_idx')).toBe('valid');
      expect(await indexState(c, 'customers_full_name_idx')).toBe('valid');
      // An old version writes a country code the new foreign key would refuse: it succeeds now.
      await c.query(`INSERT INTO customers (id, full_name, country) VALUES (4, 'Tim Berners-Lee', 'uk')`);
    },
    oldWrite: { sql: `UPDATE customers SET country = 'xx' WHERE id = 3`, key: '3', fix: `UPDATE customers SET country_code = 'GB' WHERE id IN (2, 3, 4)` },
    afterContract: async (c) => {
      expect((await c.query(`SELECT id, first_name, last_name, country_code FROM customers ORDER BY id`)).rows).toEqual([
        { id: '1', first_name: 'Ada', last_name: 'Lovelace', country_code: 'GB' },
        { id: '2', first_name: 'Alan', last_name: ' Turing', country_code: 'GB' },
        { id: '3', first_name: 'Grace', last_name: 'Hopper', country_code: 'GB' },
        { id: '4', first_name: 'Tim', last_name: 'Berners-Lee', country_code: 'GB' },
      ]);
      expect(await indexState(c, 'customers_full_name_idx')).toBe('absent');
      expect(await indexState(c, 'customers_last_first_idx')).toBe('valid');
      expect(await one(c, `SELECT convalidated FROM pg_constraint WHERE conname = 'customers_country_fk'`)).toEqual({ convalidated: true });
    },
  },
];

const MIGRATIONS = path.join(__dirname, '..', 'migrations');

describe.each(cases)('$name: start -> rollback -> start -> complete', (tc) => {
  it('leaves old writes alone until contract, rolls back exactly, and ends with the new rule', async () => {
    const url = await freshDatabase('objops');
    const text = tc.example ? fs.readFileSync(path.join(MIGRATIONS, tc.example), 'utf8') : tc.spec!;
    const spec = parseSpec(text, tc.example);
    const o = { databaseUrl: url, lockTimeoutMs: 500 };
    await withClient(url, async (c) => {
      await c.query(tc.setup);
      const original = await snapshotSchema(c);
      const originalRows = (await c.query(`SELECT json_agg(t ORDER BY 1)::text AS r FROM ${spec.table} t`)).rows[0].r;

      // start, then rollback: schema and rows exactly as before
      expect((await expand(spec, o)).changed).toBe(true);
      await backfill(spec, o);
      const expanded = await snapshotSchema(c);
      // An object-only spec installs no sync machinery: expand may leave the schema as it was (what waits for contract).
      expect(expanded.columns.filter((x) => x.includes('_tandem'))).toEqual(spec.operations.some((op) => !['create_index', 'drop_index', 'add_unique', 'add_check', 'add_foreign_key', 'set_default', 'drop_default', 'create_table', 'drop_table', 'raw_sql'].includes(op.kind)) ? expect.arrayContaining([expect.stringContaining('_tandem_pending')]) : []);
      expect((await rollback(spec, o)).step).toBe('rolled_back');
      const back = await snapshotSchema(c);
      expect(back).toEqual(original);
      // Only the migration's own functions go; the state table's actor stamp (record_actor) belongs to the state schema.
      expect(await count(c, `SELECT count(*) AS n FROM pg_proc WHERE pronamespace = 'tandem'::regnamespace AND proname <> 'record_actor'`)).toBe(0);
      expect((await c.query(`SELECT json_agg(t ORDER BY 1)::text AS r FROM ${spec.table} t`)).rows[0].r).toBe(originalRows);

      // start again; an idempotent re-run changes nothing
      expect((await expand(spec, o)).changed).toBe(true);
      expect((await expand(spec, o)).changed).toBe(false);
      await tc.whileExpanded(c);
      await backfill(spec, o);
      if (tc.oldWrite) {
        await c.query(tc.oldWrite.sql);
        const report = await verify(spec, o);
        expect(report.ok).toBe(false);
        const failing = report.operations.filter((x) => x.inconsistentRows > 0);
        expect(failing.length).toBeGreaterThan(0);
        expect(failing.flatMap((x) => x.sampleKeys)).toContain(tc.oldWrite.key);
        // The canaries are served meanwhile: only contract waits for the rows to be fixed.
        expect((await verify(spec, { ...o, forApp: 'v2' })).ok).toBe(true);
        await expect(contract(spec, o)).rejects.toThrow(/contract refused/);
        await c.query(tc.oldWrite.fix);
      }
      expect(await verify(spec, o)).toMatchObject({ ok: true });

      // complete, and a re-run is a no-op
      expect((await contract(spec, o)).step).toBe('contracted');
      expect((await contract(spec, o)).changed).toBe(false);
      const after = await snapshotSchema(c);
      expect(after.indexes.filter((x) => / INVALID$/.test(x))).toEqual([]);
      expect(after.constraints.filter((x) => / NOT VALID$/.test(x) || x.includes('_tandem'))).toEqual([]);
      expect(after.triggers).toEqual([]);
      expect(await count(c, `SELECT count(*) AS n FROM pg_proc WHERE pronamespace = 'tandem'::regnamespace AND proname <> 'record_actor'`)).toBe(0);
      await tc.afterContract(c);
    });
  });
});

it('every example in migrations/ parses', () => {
  for (const file of fs.readdirSync(MIGRATIONS).filter((f) => f.endsWith('.yaml'))) {
    expect(() => parseSpec(fs.readFileSync(path.join(MIGRATIONS, file), 'utf8'), file)).not.toThrow();
  }
});

it('tandem sql shows the object work of each step where it runs: concurrent builds outside the transactions, enforcement at contract', async () => {
  const url = await freshDatabase('objsql');
  await withClient(url, (c) => c.query(cases.find((x) => x.example === 'split-and-index.yaml')!.setup));
  const spec = parseSpec(fs.readFileSync(path.join(MIGRATIONS, 'split-and-index.yaml'), 'utf8'));
  const o = { databaseUrl: url };
  const expandSql = await planStepSql(spec, 'expand', o);
  expect(expandSql).toMatch(/COMMIT;\n\n-- after expand commits: outside the transaction[^\n]*\n-- create-index-customers_last_first_idx[^\n]*\nCREATE INDEX CONCURRENTLY "customers_last_first_idx" ON "public"."customers" USING btree \("last_name", "first_name"\);/);
  const contractSql = await planStepSql(spec, 'contract', o);
  expect(contractSql).toContain('ALTER TABLE "public"."customers" ADD CONSTRAINT "customers_country_fk" FOREIGN KEY ("country_code") REFERENCES "public"."countries" ("code") ON DELETE NO ACTION ON UPDATE NO ACTION NOT VALID;');
  expect(contractSql).toContain('ALTER TABLE "public"."customers" VALIDATE CONSTRAINT "customers_country_fk";');
  expect(contractSql.indexOf('VALIDATE CONSTRAINT "customers_country_fk"')).toBeLessThan(contractSql.indexOf('BEGIN;'));
  expect(contractSql).toMatch(/COMMIT;\n\n-- after contract commits[^\n]*\n-- drop-index-customers_full_name_idx\nDROP INDEX CONCURRENTLY IF EXISTS "public"."customers_full_name_idx";/);
  const rollbackSql = await planStepSql(spec, 'rollback', o);
  expect(rollbackSql.indexOf('DROP INDEX CONCURRENTLY IF EXISTS "public"."customers_last_first_idx"')).toBeLessThan(rollbackSql.indexOf('BEGIN;'));
  expect(rollbackSql).toContain('ALTER TABLE "public"."customers" DROP CONSTRAINT IF EXISTS "customers_country_fk";');
});
