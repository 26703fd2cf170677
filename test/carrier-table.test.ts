import { Client } from 'pg';
import { backfill, contract, expand, rollback, status, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, withClient } from './db';

/**
 * A spec of object operations only needs no carrier table: it names none (or the table it creates),
 * an empty database takes it as its first migration, and no sync machinery (bookkeeping columns,
 * triggers, backfill) is ever installed on any table, during the window or after.
 */
const opts = (url: string) => ({ databaseUrl: url, lockTimeoutMs: 2000 });

/** Every trace of sync machinery on the user's tables: Tandem's columns (live or dropped: a dropped column stays in pg_attribute) and non-internal triggers. */
async function syncTraces(c: Client): Promise<string[]> {
  const r = await c.query<{ what: string }>(
    `SELECT format('column %s.%s', cl.relname, a.attname) AS what
       FROM pg_attribute a JOIN pg_class cl ON cl.oid = a.attrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
      WHERE n.nspname = 'public' AND cl.relkind IN ('r', 'p') AND a.attnum > 0 AND (a.attisdropped OR a.attname LIKE '\\_tandem%')
     UNION ALL
     SELECT format('trigger %s on %s', t.tgname, t.tgrelid::regclass) FROM pg_trigger t JOIN pg_class cl ON cl.oid = t.tgrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
      WHERE n.nspname = 'public' AND NOT t.tgisinternal`,
  );
  return r.rows.map((x) => x.what);
}

const tables = async (c: Client) =>
  (
    await c.query(
      `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1`,
    )
  ).rows.map((r) => r.relname);

describe('object-only specs: no carrier table, no sync machinery', () => {
  it('an empty database takes a spec that names no table: create_table walks expand -> contract', async () => {
    const url = await freshDatabase('carrier');
    const spec = parseSpec(`name: first-tables
operations:
  - create_table:
      name: customers
      columns: [{ name: id, type: bigint }, { name: email, type: text, not_null: true }]
      primary_key: [id]
  - create_table:
      name: orders
      columns: [{ name: id, type: bigint }, { name: customer_id, type: bigint }]
      primary_key: [id]
`);
    expect(spec.table).toBe('customers');
    const e = await expand(spec, opts(url));
    expect(e.step).toBe('expanded');
    await withClient(url, async (c) => {
      expect(await tables(c)).toEqual(['customers', 'orders']);
      expect(await syncTraces(c)).toEqual([]);
      await c.query(`INSERT INTO customers VALUES (1, 'a@x')`);
    });
    expect((await backfill(spec, opts(url))).complete).toBe(true);
    expect((await verify(spec, opts(url))).ok).toBe(true);
    expect((await status(spec, opts(url))).message).not.toMatch(/missing/);
    expect((await contract(spec, opts(url))).step).toBe('contracted');
    await withClient(url, async (c) => {
      expect(await syncTraces(c)).toEqual([]);
      expect((await c.query(`SELECT count(*)::int AS n FROM customers`)).rows[0].n).toBe(1);
    });
  });

  it('a spec on the table it creates: create_table + create_index + add_check walks expand -> rollback -> expand -> contract', async () => {
    const url = await freshDatabase('carrier');
    const spec = parseSpec(`name: people
table: people
operations:
  - create_table:
      name: people
      columns: [{ name: id, type: int }, { name: name, type: text }, { name: age, type: int }]
      primary_key: [id]
  - create_index: { name: people_name_idx, columns: [name] }
  - add_check: { name: people_age_positive, check: "age > 0" }
`);
    await expand(spec, opts(url));
    await withClient(url, async (c) => {
      expect(await tables(c)).toEqual(['people']);
      expect(await syncTraces(c)).toEqual([]);
      expect(
        (
          await c.query(
            `SELECT indexrelid::regclass::text AS i FROM pg_index WHERE indrelid = 'people'::regclass AND NOT indisprimary`,
          )
        ).rows,
      ).toEqual([{ i: 'people_name_idx' }]);
    });
    const rb = await rollback(spec, opts(url));
    expect(rb.step).toBe('rolled_back');
    await withClient(url, async (c) => expect(await tables(c)).toEqual([]));
    await expand(spec, opts(url));
    await withClient(url, async (c) => {
      await c.query(`INSERT INTO people VALUES (1, 'ann', 30)`);
      expect(await syncTraces(c)).toEqual([]);
    });
    await backfill(spec, opts(url));
    expect((await contract(spec, opts(url))).step).toBe('contracted');
    await withClient(url, async (c) => {
      expect(await syncTraces(c)).toEqual([]);
      expect(
        (
          await c.query(
            `SELECT pg_get_constraintdef(oid) AS d, convalidated AS v FROM pg_constraint WHERE conname = 'people_age_positive'`,
          )
        ).rows,
      ).toEqual([{ d: 'CHECK ((age > 0))', v: true }]);
      await expect(c.query(`INSERT INTO people VALUES (2, 'bob', -1)`)).rejects.toThrow(/people_age_positive/);
    });
  });

  it('an object-only spec on an existing table installs no bookkeeping columns or trigger, even on a table without a primary key', async () => {
    const url = await freshDatabase('carrier');
    await withClient(url, (c) =>
      c.query(`CREATE TABLE logs (at timestamptz, line text); INSERT INTO logs VALUES (now(), 'x')`),
    );
    const spec = parseSpec(`name: logs-index
table: logs
operations:
  - create_index: { name: logs_at_idx, columns: [at] }
`);
    await expand(spec, opts(url));
    await withClient(url, async (c) => expect(await syncTraces(c)).toEqual([]));
    expect((await verify(spec, opts(url))).ok).toBe(true);
    await rollback(spec, opts(url));
    await expand(spec, opts(url));
    await contract(spec, opts(url));
    await withClient(url, async (c) => {
      expect(await syncTraces(c)).toEqual([]);
      expect((await c.query(`SELECT to_regclass('logs_at_idx') IS NOT NULL AS e`)).rows[0].e).toBe(true);
    });
  });

  it('a column operation still needs the table: refused offline when the spec names none or creates it', () => {
    expect(() =>
      parseSpec(`name: x
operations:
  - add_column: { name: a, type: text }
`),
    ).toThrow(/table.*is required/);
    expect(() =>
      parseSpec(`name: x
operations:
  - create_index: { name: i, columns: [a] }
`),
    ).toThrow(/is required/);
  });
});

describe('access plan for a spec without a table', () => {
  it('grants the verify role no table (objects: [] would mean every table of the schema)', () => {
    const { planAccess } = require('../phases/sql/access-plan');
    const plan = planAccess({
      schema: 'public',
      migratorRole: 'mig',
      appRole: 'app',
      verify: { role: 'ver', table: '' },
    });
    expect(
      plan.grants.filter((g: any) => g.role === 'ver' && g.objectType === 'table' && g.schema === 'public'),
    ).toEqual([]);
  });
});

describe('the CLI on a spec without a table', () => {
  it('validate, expand, status, verify, contract: exit 0 and one JSON object each', async () => {
    const { runCli } = require('./cli-run');
    const fs = require('fs');
    const os = require('os');
    const path = require('path');
    const url = await freshDatabase('carriercli');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-carrier-')), 'first.yaml');
    fs.writeFileSync(
      file,
      `name: first-table\noperations:\n  - create_table: { name: things, columns: [{ name: id, type: int }], primary_key: [id] }\n  - raw_sql: { contract: "COMMENT ON TABLE things IS 'ok'" }\n`,
    );
    const env = { DATABASE_URL: url };
    for (const step of ['validate', 'expand', 'status', 'backfill', 'verify', 'contract', 'status']) {
      const r = await runCli([step, file, '--json'], env);
      expect({ step, code: r.code, stderr: r.stderr }).toEqual({ step, code: 0, stderr: '' });
      expect(JSON.parse(r.stdout.trim()).ok).toBe(true);
    }
    await withClient(url, async (c) => {
      expect((await c.query(`SELECT obj_description('things'::regclass, 'pg_class') AS d`)).rows[0].d).toBe('ok');
      expect(await syncTraces(c)).toEqual([]);
    });
  });
});
