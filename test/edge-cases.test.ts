import { backfill, contract, expand, status, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, sql } from './db';
import { createCustomers, splitSpec } from './fixtures';
import { runCli } from './cli-run';
import * as fs from 'fs';
import * as path from 'path';

/** The cases a PostgreSQL reviewer broke the first version with, each pinned down. */

const one = async (url: string, q: string) => (await sql(url, q))[0];

describe('a write of part of the new side on a row the backfill has not reached', () => {
  it('keeps the rest of the old value (no data loss)', async () => {
    const url = await freshDatabase('partial');
    await createCustomers(url, 0);
    await sql(url, `INSERT INTO customers (full_name) VALUES ('Ada Lovelace')`);
    await expand(splitSpec(), { databaseUrl: url });
    await sql(url, `UPDATE customers SET first_name = 'Augusta' WHERE id = 1`);
    expect(await one(url, `SELECT full_name, first_name, last_name FROM customers`)).toEqual({
      full_name: 'Augusta Lovelace',
      first_name: 'Augusta',
      last_name: 'Lovelace',
    });
  });
});

describe('an old column with a default', () => {
  it('is not taken for a write of the old side when a new version inserts without it; the default moves at contract', async () => {
    const url = await freshDatabase('olddefault');
    await sql(
      url,
      `CREATE TABLE orders (id int PRIMARY KEY, status text NOT NULL DEFAULT 'new'); INSERT INTO orders VALUES (1, 'paid');`,
    );
    const spec = parseSpec(
      `name: rename-status\ntable: orders\noperations:\n  - rename_column: { from: status, to: state }\n`,
    );
    await expand(spec, { databaseUrl: url });
    await sql(url, `INSERT INTO orders (id, state) VALUES (2, 'shipped')`); // v3
    await sql(url, `INSERT INTO orders (id) VALUES (3)`); // v1, relying on the default
    await sql(url, `INSERT INTO orders (id, status) VALUES (4, 'new')`); // v1, writing the default's value
    expect(await sql(url, `SELECT id, status, state FROM orders ORDER BY id`)).toEqual([
      { id: 1, status: 'paid', state: null },
      { id: 2, status: 'shipped', state: 'shipped' },
      { id: 3, status: 'new', state: 'new' },
      { id: 4, status: 'new', state: 'new' },
    ]);
    await backfill(spec, { databaseUrl: url });
    expect((await verify(spec, { databaseUrl: url })).ok).toBe(true);
    await contract(spec, { databaseUrl: url });
    await sql(url, `INSERT INTO orders (id) VALUES (5)`); // v3 after contract, relying on the default
    expect(await one(url, `SELECT state FROM orders WHERE id = 5`)).toEqual({ state: 'new' });
  });
});

describe('types without an equality operator', () => {
  it('json -> jsonb: old-side updates of any column keep working, and verify runs', async () => {
    const url = await freshDatabase('json');
    await sql(
      url,
      `CREATE TABLE events (id int PRIMARY KEY, payload json NOT NULL, note text); INSERT INTO events VALUES (1, '{"a": 1}', null);`,
    );
    const spec = parseSpec(
      `name: jsonb\ntable: events\noperations:\n  - change_type: { column: payload, into: body, type: jsonb, up: "payload::jsonb", down: "body::json" }\n`,
    );
    await expand(spec, { databaseUrl: url });
    await sql(url, `UPDATE events SET note = 'x' WHERE id = 1`);
    await sql(url, `UPDATE events SET payload = '{"b": 2}' WHERE id = 1`);
    expect(await one(url, `SELECT body::text FROM events`)).toEqual({ body: '{"b": 2}' });
    await backfill(spec, { databaseUrl: url });
    expect((await verify(spec, { databaseUrl: url })).ok).toBe(true);
  });

  it('a change that = would call equal (1.0 -> 1.00) still reaches the new column', async () => {
    const url = await freshDatabase('numeric');
    await sql(
      url,
      `CREATE TABLE prices (id int PRIMARY KEY, amount numeric NOT NULL); INSERT INTO prices VALUES (1, 1.0);`,
    );
    const spec = parseSpec(
      `name: rename-amount\ntable: prices\noperations:\n  - rename_column: { from: amount, to: price }\n`,
    );
    await expand(spec, { databaseUrl: url });
    await backfill(spec, { databaseUrl: url });
    await sql(url, `UPDATE prices SET amount = 1.00 WHERE id = 1`);
    expect(await one(url, `SELECT amount::text, price::text FROM prices`)).toEqual({ amount: '1.00', price: '1.00' });
  });
});

describe('expressions that PL/pgSQL variables used to resolve differently from the UPDATE', () => {
  it.each([
    ['a table-qualified column', `split_part(customers.full_name, ' ', 1)`],
    [
      "a subquery whose column name collides with the table's",
      `(SELECT split_part(full_name, ' ', 1) FROM (SELECT 'Inner Name'::text AS full_name) s)`,
    ],
  ])('%s: the trigger gives what the backfill gives', async (_what, up) => {
    const url = await freshDatabase('probe');
    await createCustomers(url, 5);
    const spec = parseSpec(
      fs
        .readFileSync(path.join(__dirname, '..', 'migrations', 'split-full-name.yaml'), 'utf8')
        .replace(`"split_part(full_name, ' ', 1)"`, JSON.stringify(up)),
    );
    await expand(spec, { databaseUrl: url });
    await backfill(spec, { databaseUrl: url });
    await sql(url, `UPDATE customers SET full_name = 'Ada Lovelace' WHERE id = 2`);
    await sql(url, `INSERT INTO customers (full_name) VALUES ('Still Writable')`);
    expect((await verify(spec, { databaseUrl: url })).ok).toBe(true);
  });
});

describe('contract and what depends on the old columns', () => {
  it('refuses while an index depends on a column it would drop, names it, and goes once it is gone', async () => {
    const url = await freshDatabase('dependents');
    await createCustomers(url, 10);
    await sql(url, `CREATE INDEX customers_full_name_idx ON customers (full_name)`);
    const spec = splitSpec();
    await expand(spec, { databaseUrl: url });
    await backfill(spec, { databaseUrl: url });
    const r = await runCli(['contract', path.join(__dirname, '..', 'migrations', 'split-full-name.yaml')], {
      DATABASE_URL: url,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /contract refused: dropping full_name would also drop index customers_full_name_idx \(on full_name\)/,
    );
    await sql(url, `CREATE INDEX ON customers (last_name, first_name); DROP INDEX customers_full_name_idx`);
    expect((await contract(spec, { databaseUrl: url })).step).toBe('contracted');
  });

  it('sets NOT NULL without rescanning the table under its ACCESS EXCLUSIVE lock', async () => {
    const url = await freshDatabase('noscan');
    await sql(
      url,
      `CREATE TABLE accounts (id int PRIMARY KEY, mail text NOT NULL); INSERT INTO accounts SELECT g, g || '@x' FROM generate_series(1, 100) g;`,
    );
    const spec = parseSpec(
      `name: rename-mail\ntable: accounts\noperations:\n  - rename_column: { from: mail, to: email }\n`,
    );
    await expand(spec, { databaseUrl: url });
    await backfill(spec, { databaseUrl: url });
    // PostgreSQL says, at DEBUG1, whether an existing constraint proved NOT NULL or it scanned the table.
    const messages: string[] = [];
    const { connect } = await import('../executor/connection');
    const c = await connect(url);
    c.on('notice', (n) => messages.push(n.message ?? ''));
    await c.query(`SET client_min_messages = debug1`);
    const { contractPlan, validateChecksPlan } = await import('../phases/sql/plan');
    const state = (await c.query(`SELECT resolved FROM tandem.migrations WHERE name = 'rename-mail'`)).rows[0].resolved;
    for (const s of validateChecksPlan(state)) await c.query(s.sql); // contract's first step, outside its transaction
    messages.length = 0;
    await c.query('BEGIN');
    for (const s of contractPlan(state)) await c.query(s.sql);
    await c.query('ROLLBACK');
    await c.end();
    expect(
      messages.some((m) =>
        /existing constraints on column "accounts.email" are sufficient to prove that it does not contain nulls/.test(
          m,
        ),
      ),
    ).toBe(true);
    expect(messages.filter((m) => /verifying table "accounts"/.test(m))).toEqual([]);
  });
});

describe('add_column with both a default and an up', () => {
  it('gives old-side inserts up(row), like existing rows; the default serves new versions after contract', async () => {
    const url = await freshDatabase('addup');
    await sql(url, `CREATE TABLE items (id int PRIMARY KEY, price numeric NOT NULL); INSERT INTO items VALUES (1, 2);`);
    const spec = parseSpec(
      `name: cents\ntable: items\noperations:\n  - add_column: { name: cents, type: integer, default: "0", up: "(price * 100)::integer", not_null: true }\n`,
    );
    await expand(spec, { databaseUrl: url });
    await sql(url, `INSERT INTO items (id, price) VALUES (2, 3)`);
    await backfill(spec, { databaseUrl: url });
    expect(await sql(url, `SELECT id, cents FROM items ORDER BY id`)).toEqual([
      { id: 1, cents: 200 },
      { id: 2, cents: 300 },
    ]);
    await contract(spec, { databaseUrl: url });
    await sql(url, `INSERT INTO items (id, price) VALUES (3, 4)`);
    expect(await one(url, `SELECT cents FROM items WHERE id = 3`)).toEqual({ cents: 0 });
  });
});

describe('re-running a finished step', () => {
  it('expand and backfill after contract change nothing and succeed (a Pulumi Command re-runs create on any input change)', async () => {
    const url = await freshDatabase('rerun');
    await createCustomers(url, 5);
    const spec = splitSpec();
    await expand(spec, { databaseUrl: url });
    await backfill(spec, { databaseUrl: url });
    await contract(spec, { databaseUrl: url });
    expect(await expand(spec, { databaseUrl: url })).toMatchObject({ changed: false, step: 'contracted' });
    expect(await backfill(spec, { databaseUrl: url })).toMatchObject({ changed: false, step: 'contracted' });
    await expect(expand({ ...spec, hash: 'another' }, { databaseUrl: url })).rejects.toThrow(
      /already used and contracted/,
    );
  });
});

describe('checkpoint keys', () => {
  it("do not depend on the database's DateStyle", async () => {
    const url = await freshDatabase('datestyle');
    const db = new URL(url).pathname.slice(1);
    await sql(url, `ALTER DATABASE "${db}" SET DateStyle = 'SQL, DMY'`);
    await sql(
      url,
      `CREATE TABLE days (day date PRIMARY KEY, full_name text NOT NULL);
      INSERT INTO days SELECT d::date, 'Name ' || d::date FROM generate_series('2024-02-01'::date, '2024-03-31', '1 day') d;`,
    );
    const spec = parseSpec(
      fs
        .readFileSync(path.join(__dirname, '..', 'migrations', 'split-full-name.yaml'), 'utf8')
        .replace('table: customers', 'table: days'),
    );
    await expand(spec, { databaseUrl: url });
    await backfill(spec, { databaseUrl: url, batchSize: 29, maxBatches: 1 });
    expect((await status(spec, { databaseUrl: url })).backfill.lastKey).toEqual(['2024-02-29']);
    expect(await backfill(spec, { databaseUrl: url, batchSize: 29 })).toMatchObject({
      complete: true,
      rowsUpdated: 60 - 29,
    });
    expect((await verify(spec, { databaseUrl: url })).ok).toBe(true);
  });
});
