import { Client } from 'pg';
import { backfill, contract, expand, rollback, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { isConstantDefault } from '../phases/sql/operations/add-column';
import { freshDatabase, withClient } from './db';
import { columnNames, snapshotTable } from './table-snapshot';

/**
 * pgroll's harness, in our terms: every operation runs start -> rollback -> start -> complete on a
 * real PostgreSQL, with an old-version writer and a new-version writer in between, and the table's
 * columns, triggers and data checked after each step.
 */
interface OperationCase {
  name: string;
  table: string;
  setup: string;
  spec: string;
  /** Columns after expand, in order. */
  expanded: string[];
  /** Columns after contract, in order. */
  contracted: string[];
  /** What an old app version writes (SQL), and what a new one writes. */
  oldWrite: string;
  newWrite: string;
  /** Checks on the data after the old and new writes, while expanded. */
  whileExpanded: (c: Client) => Promise<void>;
  /** Checks on the data after contract. */
  afterContract: (c: Client) => Promise<void>;
}

const one = async (c: Client, q: string, v: unknown[] = []) => (await c.query(q, v)).rows[0];

const cases: OperationCase[] = [
  {
    name: 'split_column',
    table: 'customers',
    setup: `CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, full_name text NOT NULL, email text);
            INSERT INTO customers (full_name, email) VALUES ('Ada Lovelace', 'ada@example.com'), ('Alan  Turing', NULL), ('Cher', NULL), ('Grace Brewster Hopper ', NULL);`,
    spec: `name: split
table: customers
operations:
  - split_column:
      column: full_name
      into:
        - { name: first_name, type: text, up: "split_part(full_name, ' ', 1)" }
        - { name: last_name, type: text, up: "nullif(substr(full_name, length(split_part(full_name, ' ', 1)) + 2), '')" }
      down: "concat_ws(' ', first_name, last_name)"`,
    expanded: ['id', 'full_name', 'email', 'first_name', 'last_name', '_tandem_pending', '_tandem_mark', '_tandem_sync_failed'],
    contracted: ['id', 'email', 'first_name', 'last_name'],
    oldWrite: `INSERT INTO customers (full_name) VALUES ('Tim  Berners-Lee ')`,
    newWrite: `INSERT INTO customers (first_name, last_name) VALUES ('John', 'Vin')`,
    whileExpanded: async (c) => {
      expect(await one(c, `SELECT full_name, first_name, last_name FROM customers WHERE full_name LIKE 'Tim%'`)).toEqual({ full_name: 'Tim  Berners-Lee ', first_name: 'Tim', last_name: ' Berners-Lee ' });
      expect(await one(c, `SELECT full_name FROM customers WHERE first_name = 'John'`)).toEqual({ full_name: 'John Vin' });
    },
    afterContract: async (c) => {
      expect(await one(c, `SELECT first_name, last_name FROM customers WHERE id = 2`)).toEqual({ first_name: 'Alan', last_name: ' Turing' });
      expect(await one(c, `SELECT first_name, last_name FROM customers WHERE id = 3`)).toEqual({ first_name: 'Cher', last_name: null });
    },
  },
  {
    name: 'merge_columns',
    table: 'people',
    setup: `CREATE TABLE people (id int PRIMARY KEY, given text, family text);
            INSERT INTO people VALUES (1, 'Ada', 'Lovelace'), (2, 'Plato', NULL);`,
    spec: `name: merge
table: people
operations:
  - merge_columns:
      columns: [given, family]
      into: { name: full_name, type: text, up: "concat_ws(' ', given, family)" }
      down:
        given: "split_part(full_name, ' ', 1)"
        family: "nullif(substr(full_name, length(split_part(full_name, ' ', 1)) + 2), '')"`,
    expanded: ['id', 'given', 'family', 'full_name', '_tandem_pending', '_tandem_mark', '_tandem_sync_failed'],
    contracted: ['id', 'full_name'],
    oldWrite: `INSERT INTO people (id, given, family) VALUES (3, 'Alan', 'Turing')`,
    newWrite: `INSERT INTO people (id, full_name) VALUES (4, 'Grace Hopper')`,
    whileExpanded: async (c) => {
      expect(await one(c, `SELECT full_name FROM people WHERE id = 3`)).toEqual({ full_name: 'Alan Turing' });
      expect(await one(c, `SELECT given, family FROM people WHERE id = 4`)).toEqual({ given: 'Grace', family: 'Hopper' });
    },
    afterContract: async (c) => {
      expect((await c.query(`SELECT full_name FROM people ORDER BY id`)).rows.map((r) => r.full_name)).toEqual(['Ada Lovelace', 'Plato', 'Alan Turing', 'Grace Hopper']);
    },
  },
  {
    name: 'rename_column',
    table: 'accounts',
    setup: `CREATE TABLE accounts (id int PRIMARY KEY, mail varchar(200) NOT NULL);
            INSERT INTO accounts VALUES (1, 'a@example.com'), (2, 'b@example.com');`,
    spec: `name: rename
table: accounts
operations:
  - rename_column: { from: mail, to: email }`,
    expanded: ['id', 'mail', 'email', '_tandem_pending', '_tandem_mark', '_tandem_sync_failed'],
    contracted: ['id', 'email'],
    oldWrite: `INSERT INTO accounts (id, mail) VALUES (3, 'c@example.com')`,
    newWrite: `INSERT INTO accounts (id, email) VALUES (4, 'd@example.com')`,
    whileExpanded: async (c) => {
      expect(await one(c, `SELECT email FROM accounts WHERE id = 3`)).toEqual({ email: 'c@example.com' });
      expect(await one(c, `SELECT mail FROM accounts WHERE id = 4`)).toEqual({ mail: 'd@example.com' });
      // NOT NULL carried over the safe way: a NOT VALID check while both versions run.
      await expect(c.query(`UPDATE accounts SET mail = 'x', email = NULL WHERE id = 4`)).rejects.toThrow(/check constraint/);
    },
    afterContract: async (c) => {
      expect(await one(c, `SELECT format_type(atttypid, atttypmod) AS type, attnotnull FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'email'`)).toEqual({ type: 'character varying(200)', attnotnull: true });
      expect(await one(c, `SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'accounts'::regclass AND contype = 'c'`)).toEqual({ n: 0 });
    },
  },
  {
    name: 'add_column',
    table: 'orders',
    setup: `CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL);
            INSERT INTO orders VALUES (1, 10), (2, 20);`,
    spec: `name: add
table: orders
operations:
  - add_column: { name: status, type: text, default: "'new'", not_null: true }`,
    expanded: ['id', 'total', 'status', '_tandem_pending', '_tandem_mark', '_tandem_sync_failed'],
    contracted: ['id', 'total', 'status'],
    oldWrite: `INSERT INTO orders (id, total) VALUES (3, 30)`,
    newWrite: `INSERT INTO orders (id, total, status) VALUES (4, 40, 'paid')`,
    whileExpanded: async (c) => {
      expect((await c.query(`SELECT id, status FROM orders WHERE id IN (3, 4) ORDER BY id`)).rows).toEqual([{ id: 3, status: 'new' }, { id: 4, status: 'paid' }]);
    },
    afterContract: async (c) => {
      expect((await c.query(`SELECT status FROM orders ORDER BY id`)).rows.map((r) => r.status)).toEqual(['new', 'new', 'new', 'paid']);
      expect(await one(c, `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'status'`)).toEqual({ attnotnull: true });
      await expect(c.query(`INSERT INTO orders (id, total, status) VALUES (5, 1, NULL)`)).rejects.toThrow(/null value/);
    },
  },
  {
    name: 'drop_column',
    table: 'users',
    setup: `CREATE TABLE users (id int PRIMARY KEY, name text, legacy_flag boolean NOT NULL);
            INSERT INTO users VALUES (1, 'a', true), (2, 'b', false);`,
    spec: `name: drop
table: users
operations:
  - drop_column: { column: legacy_flag, down: "false" }`,
    expanded: ['id', 'name', 'legacy_flag', '_tandem_pending', '_tandem_mark', '_tandem_sync_failed'],
    contracted: ['id', 'name'],
    oldWrite: `INSERT INTO users (id, name, legacy_flag) VALUES (3, 'c', true)`,
    // The new version no longer writes legacy_flag: NOT NULL must not break it.
    newWrite: `INSERT INTO users (id, name) VALUES (4, 'd')`,
    whileExpanded: async (c) => {
      expect((await c.query(`SELECT id, legacy_flag FROM users WHERE id IN (3, 4) ORDER BY id`)).rows).toEqual([{ id: 3, legacy_flag: true }, { id: 4, legacy_flag: false }]);
    },
    afterContract: async (c) => {
      expect((await c.query(`SELECT name FROM users ORDER BY id`)).rows.map((r) => r.name)).toEqual(['a', 'b', 'c', 'd']);
    },
  },
  {
    name: 'change_type',
    table: 'products',
    setup: `CREATE TABLE products (id int PRIMARY KEY, price text NOT NULL);
            INSERT INTO products VALUES (1, '10.50'), (2, '3');`,
    spec: `name: change
table: products
operations:
  - change_type:
      column: price
      into: price_cents
      type: integer
      up: "(price::numeric * 100)::integer"
      down: "(price_cents / 100.0)::numeric(12,2)::text"`,
    expanded: ['id', 'price', 'price_cents', '_tandem_pending', '_tandem_mark', '_tandem_sync_failed'],
    contracted: ['id', 'price_cents'],
    oldWrite: `INSERT INTO products (id, price) VALUES (3, '7.25')`,
    newWrite: `INSERT INTO products (id, price_cents) VALUES (4, 1999)`,
    whileExpanded: async (c) => {
      expect(await one(c, `SELECT price_cents FROM products WHERE id = 3`)).toEqual({ price_cents: 725 });
      expect(await one(c, `SELECT price FROM products WHERE id = 4`)).toEqual({ price: '19.99' });
    },
    afterContract: async (c) => {
      expect((await c.query(`SELECT price_cents FROM products ORDER BY id`)).rows.map((r) => r.price_cents)).toEqual([1050, 300, 725, 1999]);
      expect(await one(c, `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'products'::regclass AND attname = 'price_cents'`)).toEqual({ attnotnull: true });
    },
  },
  {
    name: 'several operations on one table',
    table: 'members',
    setup: `CREATE TABLE members (id int PRIMARY KEY, full_name text NOT NULL, mail text, legacy int);
            INSERT INTO members VALUES (1, 'Ada Lovelace', 'ada@example.com', 1), (2, 'Alan  Turing', NULL, 2);`,
    spec: `name: several
table: members
operations:
  - split_column:
      column: full_name
      into:
        - { name: first_name, type: text, up: "split_part(full_name, ' ', 1)" }
        - { name: last_name, type: text, up: "nullif(substr(full_name, length(split_part(full_name, ' ', 1)) + 2), '')" }
      down: "concat_ws(' ', first_name, last_name)"
  - rename_column: { from: mail, to: email }
  - add_column: { name: joined_on, type: date, default: "DATE '2020-01-01'" }
  - drop_column: { column: legacy, down: "0" }`,
    expanded: ['id', 'full_name', 'mail', 'legacy', 'first_name', 'last_name', 'email', 'joined_on', '_tandem_pending', '_tandem_mark', '_tandem_sync_failed'],
    contracted: ['id', 'first_name', 'last_name', 'email', 'joined_on'],
    oldWrite: `INSERT INTO members (id, full_name, mail, legacy) VALUES (3, 'Grace Hopper', 'grace@example.com', 3)`,
    newWrite: `INSERT INTO members (id, first_name, last_name, email) VALUES (4, 'John', 'Vin', 'john@example.com')`,
    whileExpanded: async (c) => {
      expect(await one(c, `SELECT first_name, last_name, email, joined_on::text FROM members WHERE id = 3`)).toEqual({ first_name: 'Grace', last_name: 'Hopper', email: 'grace@example.com', joined_on: '2020-01-01' });
      expect(await one(c, `SELECT full_name, mail, legacy FROM members WHERE id = 4`)).toEqual({ full_name: 'John Vin', mail: 'john@example.com', legacy: 0 });
    },
    afterContract: async (c) => {
      expect(await one(c, `SELECT first_name, last_name, email, joined_on::text FROM members WHERE id = 2`)).toEqual({ first_name: 'Alan', last_name: ' Turing', email: null, joined_on: '2020-01-01' });
    },
  },
];

describe.each(cases)('$name: start -> rollback -> start -> complete', (tc) => {
  it('keeps every write and ends with the new shape', async () => {
    const url = await freshDatabase('ops');
    const spec = parseSpec(tc.spec);
    const o = { databaseUrl: url };
    await withClient(url, async (c) => {
      await c.query(tc.setup);
      const original = await snapshotTable(c, tc.table);

      // start
      expect((await expand(spec, o)).changed).toBe(true);
      expect(await columnNames(c, tc.table)).toEqual(tc.expanded);
      // The INSERT trigger, per operation an UPDATE OF trigger per side, and one for rows still pending.
      const triggers = (await snapshotTable(c, tc.table)).triggers;
      expect(triggers[0]).toBe(`zz_tandem_sync_${spec.name.replace(/-/g, '_')}`);
      expect(triggers.every((t: string) => t.startsWith(`zz_tandem_sync_${spec.name.replace(/-/g, '_')}`))).toBe(true);
      expect(triggers[triggers.length - 1]).toMatch(/_zp$/);
      // The old column of an old writer's row is untouched by expand.
      await backfill(spec, o);
      expect((await verify(spec, o)).ok).toBe(true);

      // rollback: the table is exactly as it was, byte for byte
      expect((await rollback(spec, o)).step).toBe('rolled_back');
      expect(await snapshotTable(c, tc.table)).toEqual(original);

      // start again, with both app versions writing
      await expand(spec, o);
      await c.query(tc.oldWrite);
      await c.query(tc.newWrite);
      await tc.whileExpanded(c);
      // The original rows are not backfilled yet, unless no new column takes its value from them
      // (drop_column; a constant default comes from the catalog).
      const needs = spec.operations.some((op) => {
        const b = op.body as { up?: string; default?: string };
        if (op.kind === 'drop_column') return false;
        if (op.kind === 'add_column') return b.up !== undefined || (b.default !== undefined && !isConstantDefault(b.default));
        return true;
      });
      expect((await verify(spec, o)).ok).toBe(!needs);
      await backfill(spec, o);
      const report = await verify(spec, o);
      expect(report).toMatchObject({ ok: true, pendingRows: 0 });

      // complete
      expect((await contract(spec, o)).step).toBe('contracted');
      expect(await columnNames(c, tc.table)).toEqual(tc.contracted);
      const after = await snapshotTable(c, tc.table);
      expect(after.triggers).toEqual([]);
      expect(after.constraints.filter((x) => x.includes('_tandem'))).toEqual([]);
      expect((await c.query(`SELECT count(*)::int AS n FROM pg_proc WHERE proname = $1`, [`sync_${spec.name}`])).rows[0].n).toBe(0);
      await tc.afterContract(c);
    });
  });
});
