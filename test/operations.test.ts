import { parse } from 'yaml';
import { OPERATION_KINDS } from '../phases/sql/operations';
import * as fs from 'fs';
import * as path from 'path';
import { planStepSql } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, withClient } from './db';
import { count, MIGRATIONS, one, OperationCase, runOperationCase } from './operation-harness';
import { indexState } from './object-snapshot';

/**
 * Every operation through the one harness (test/operation-harness.ts): start -> rollback -> start
 * -> complete on a real PostgreSQL while an old app version keeps writing through the old columns.
 * A case gives its tables, its spec (or a migrations/ example), what the old version writes, and
 * its own checks after each phase; some expect an error of a given kind at a given phase.
 * Writers' rows have ids from 1001 on; the cases' own checks look at the rows below.
 */

const ITEMS = `CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL, price int, note text);
               INSERT INTO items VALUES (1, 'A-1', 10, NULL), (2, 'B-2', 20, 'two'), (3, 'c-3', 30, NULL);`;
/** An old version of the items app: new rows with unique skus and positive prices, then price updates. */
const ITEMS_WRITER = {
  insert: (i: number) => `INSERT INTO items (id, sku, price) VALUES (${1000 + i}, 'W-${i}', ${i})`,
  update: (i: number) => `UPDATE items SET price = price + 1 WHERE id = ${1000 + i}`,
};

/** The column operations: new columns filled from the old ones, kept in sync both ways while expanded. */
const columnCases: OperationCase[] = [
  {
    name: 'split_column',
    oldWriter: {
      insert: (i) => `INSERT INTO customers (full_name, email) VALUES ('Writer${i} Old', 'w${i}@example.com')`,
      update: (i) => `UPDATE customers SET full_name = 'Writer${i}  Updated ' WHERE email = 'w${i}@example.com'`,
    },
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
    expanded: [
      'id',
      'full_name',
      'email',
      'first_name',
      'last_name',
      '_tandem_pending',
      '_tandem_mark',
      '_tandem_sync_failed',
    ],
    contracted: ['id', 'email', 'first_name', 'last_name'],
    oldWrite: `INSERT INTO customers (full_name) VALUES ('Tim  Berners-Lee ')`,
    newWrite: `INSERT INTO customers (first_name, last_name) VALUES ('John', 'Vin')`,
    afterStart: async (c) => {
      // The old version's rows, written during and between expand and backfill, have their new side (double spaces kept).
      expect(
        await count(
          c,
          `SELECT count(*) AS n FROM customers WHERE email LIKE 'w%' AND first_name IS DISTINCT FROM split_part(full_name, ' ', 1)`,
        ),
      ).toBe(0);
      expect(await one(c, `SELECT first_name, last_name FROM customers WHERE email = 'w1@example.com'`)).toEqual({
        first_name: 'Writer1',
        last_name: ' Updated ',
      });
    },
    whileExpanded: async (c) => {
      expect(
        await one(c, `SELECT full_name, first_name, last_name FROM customers WHERE full_name LIKE 'Tim%'`),
      ).toEqual({ full_name: 'Tim  Berners-Lee ', first_name: 'Tim', last_name: ' Berners-Lee ' });
      expect(await one(c, `SELECT full_name FROM customers WHERE first_name = 'John'`)).toEqual({
        full_name: 'John Vin',
      });
    },
    afterComplete: async (c) => {
      expect(await one(c, `SELECT first_name, last_name FROM customers WHERE id = 2`)).toEqual({
        first_name: 'Alan',
        last_name: ' Turing',
      });
      expect(await one(c, `SELECT first_name, last_name FROM customers WHERE id = 3`)).toEqual({
        first_name: 'Cher',
        last_name: null,
      });
    },
  },
  {
    name: 'merge_columns',
    oldWriter: {
      insert: (i) => `INSERT INTO people (id, given, family) VALUES (${1000 + i}, 'W${i}', 'Old')`,
      update: (i) => `UPDATE people SET family = NULL WHERE id = ${1000 + i}`,
    },
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
      expect(await one(c, `SELECT given, family FROM people WHERE id = 4`)).toEqual({
        given: 'Grace',
        family: 'Hopper',
      });
    },
    afterComplete: async (c) => {
      expect(
        (await c.query(`SELECT full_name FROM people WHERE id < 1000 ORDER BY id`)).rows.map((r) => r.full_name),
      ).toEqual(['Ada Lovelace', 'Plato', 'Alan Turing', 'Grace Hopper']);
    },
  },
  {
    name: 'rename_column',
    oldWriter: {
      insert: (i) => `INSERT INTO accounts (id, mail) VALUES (${1000 + i}, 'w${i}@example.com')`,
      update: (i) => `UPDATE accounts SET mail = 'u${i}@example.com' WHERE id = ${1000 + i}`,
    },
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
    afterRollback: async (c) => {
      // The old version's update of its first row, made while expanded, is in mail.
      expect(await one(c, `SELECT mail FROM accounts WHERE id = 1001`)).toEqual({ mail: 'u1@example.com' });
    },
    whileExpanded: async (c) => {
      expect(await one(c, `SELECT email FROM accounts WHERE id = 3`)).toEqual({ email: 'c@example.com' });
      expect(await one(c, `SELECT mail FROM accounts WHERE id = 4`)).toEqual({ mail: 'd@example.com' });
      // NOT NULL carried over the safe way: a NOT VALID check while both versions run.
      await expect(c.query(`UPDATE accounts SET mail = 'x', email = NULL WHERE id = 4`)).rejects.toThrow(
        /check constraint/,
      );
    },
    afterComplete: async (c) => {
      expect(
        await one(
          c,
          `SELECT format_type(atttypid, atttypmod) AS type, attnotnull FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'email'`,
        ),
      ).toEqual({ type: 'character varying(200)', attnotnull: true });
      expect(
        await one(
          c,
          `SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'accounts'::regclass AND contype = 'c'`,
        ),
      ).toEqual({ n: 0 });
    },
  },
  {
    name: 'add_column',
    oldWriter: {
      insert: (i) => `INSERT INTO orders (id, total) VALUES (${1000 + i}, ${i})`,
      update: (i) => `UPDATE orders SET total = total + 1 WHERE id = ${1000 + i}`,
    },
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
      expect((await c.query(`SELECT id, status FROM orders WHERE id IN (3, 4) ORDER BY id`)).rows).toEqual([
        { id: 3, status: 'new' },
        { id: 4, status: 'paid' },
      ]);
    },
    afterComplete: async (c) => {
      expect(
        (await c.query(`SELECT status FROM orders WHERE id < 1000 ORDER BY id`)).rows.map((r) => r.status),
      ).toEqual(['new', 'new', 'new', 'paid']);
      expect(
        await one(c, `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'status'`),
      ).toEqual({ attnotnull: true });
      await expect(c.query(`INSERT INTO orders (id, total, status) VALUES (5, 1, NULL)`)).rejects.toThrow(/null value/);
    },
  },
  {
    name: 'drop_column',
    oldWriter: {
      insert: (i) => `INSERT INTO users (id, name, legacy_flag) VALUES (${1000 + i}, 'w${i}', true)`,
      update: (i) => `UPDATE users SET legacy_flag = false WHERE id = ${1000 + i}`,
    },
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
      expect((await c.query(`SELECT id, legacy_flag FROM users WHERE id IN (3, 4) ORDER BY id`)).rows).toEqual([
        { id: 3, legacy_flag: true },
        { id: 4, legacy_flag: false },
      ]);
    },
    afterComplete: async (c) => {
      expect((await c.query(`SELECT name FROM users WHERE id < 1000 ORDER BY id`)).rows.map((r) => r.name)).toEqual([
        'a',
        'b',
        'c',
        'd',
      ]);
    },
  },
  {
    name: 'change_type',
    oldWriter: {
      insert: (i) => `INSERT INTO products (id, price) VALUES (${1000 + i}, '${i}.25')`,
      update: (i) => `UPDATE products SET price = '${i}.5' WHERE id = ${1000 + i}`,
    },
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
    afterComplete: async (c) => {
      expect(
        (await c.query(`SELECT price_cents FROM products WHERE id < 1000 ORDER BY id`)).rows.map((r) => r.price_cents),
      ).toEqual([1050, 300, 725, 1999]);
      expect(
        await one(
          c,
          `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'products'::regclass AND attname = 'price_cents'`,
        ),
      ).toEqual({ attnotnull: true });
    },
  },
  {
    name: 'several operations on one table',
    oldWriter: {
      insert: (i) =>
        `INSERT INTO members (id, full_name, mail, legacy) VALUES (${1000 + i}, 'W${i} Old', 'w${i}@example.com', ${i})`,
      update: (i) =>
        `UPDATE members SET full_name = 'W${i}  New', mail = NULL, legacy = legacy + 1 WHERE id = ${1000 + i}`,
    },
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
    expanded: [
      'id',
      'full_name',
      'mail',
      'legacy',
      'first_name',
      'last_name',
      'email',
      'joined_on',
      '_tandem_pending',
      '_tandem_mark',
      '_tandem_sync_failed',
    ],
    contracted: ['id', 'first_name', 'last_name', 'email', 'joined_on'],
    oldWrite: `INSERT INTO members (id, full_name, mail, legacy) VALUES (3, 'Grace Hopper', 'grace@example.com', 3)`,
    newWrite: `INSERT INTO members (id, first_name, last_name, email) VALUES (4, 'John', 'Vin', 'john@example.com')`,
    whileExpanded: async (c) => {
      expect(await one(c, `SELECT first_name, last_name, email, joined_on::text FROM members WHERE id = 3`)).toEqual({
        first_name: 'Grace',
        last_name: 'Hopper',
        email: 'grace@example.com',
        joined_on: '2020-01-01',
      });
      expect(await one(c, `SELECT full_name, mail, legacy FROM members WHERE id = 4`)).toEqual({
        full_name: 'John Vin',
        mail: 'john@example.com',
        legacy: 0,
      });
    },
    afterComplete: async (c) => {
      expect(await one(c, `SELECT first_name, last_name, email, joined_on::text FROM members WHERE id = 2`)).toEqual({
        first_name: 'Alan',
        last_name: ' Turing',
        email: null,
        joined_on: '2020-01-01',
      });
    },
  },
];

/**
 * The object operations: while expanded, an old version's write that the new rule would refuse
 * must succeed (nothing is enforced before complete); verify reports it by key and complete is
 * refused until it is fixed; after complete the rule holds.
 */
const objectCases: OperationCase[] = [
  {
    name: 'create_index',
    oldWriter: ITEMS_WRITER,
    example: 'create-index.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      expect(await indexState(c, 'items_sku_lower_idx')).toBe('valid');
      expect((await one(c, `SELECT pg_get_indexdef('items_sku_lower_idx'::regclass) AS d`)).d).toBe(
        'CREATE INDEX items_sku_lower_idx ON public.items USING btree (lower(sku), price) INCLUDE (note) WHERE (price > 0)',
      );
    },
    afterComplete: async (c) => {
      expect(await indexState(c, 'items_sku_lower_idx')).toBe('valid');
    },
  },
  {
    name: 'create_index unique',
    oldWriter: ITEMS_WRITER,
    setup: ITEMS,
    spec: `name: unique-index
table: items
operations:
  - create_index: { name: items_sku_key, columns: [sku], unique: true }`,
    whileExpanded: async (c) => {
      // Built only once the old versions are gone: it would refuse their duplicate writes.
      expect(await indexState(c, 'items_sku_key')).toBe('absent');
    },
    ruleBreakingWrite: {
      sql: `INSERT INTO items VALUES (4, 'A-1', 1, NULL)`,
      key: '4',
      fix: `UPDATE items SET sku = 'D-4' WHERE id = 4`,
    },
    afterComplete: async (c) => {
      expect(await indexState(c, 'items_sku_key')).toBe('valid');
      await expect(c.query(`INSERT INTO items VALUES (5, 'A-1', 1, NULL)`)).rejects.toThrow(/duplicate key/);
    },
  },
  {
    name: 'drop_index',
    oldWriter: ITEMS_WRITER,
    example: 'drop-index.yaml',
    setup: `${ITEMS} CREATE INDEX items_note_idx ON items (note);`,
    whileExpanded: async (c) => {
      expect(await indexState(c, 'items_note_idx')).toBe('valid');
    },
    afterComplete: async (c) => {
      expect(await indexState(c, 'items_note_idx')).toBe('absent');
    },
  },
  {
    name: 'add_unique',
    oldWriter: ITEMS_WRITER,
    example: 'add-unique.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      expect(await indexState(c, 'items_sku_unique')).toBe('absent');
    },
    ruleBreakingWrite: {
      sql: `INSERT INTO items VALUES (4, 'B-2', 1, NULL)`,
      key: '4',
      fix: `DELETE FROM items WHERE id = 4`,
    },
    afterComplete: async (c) => {
      expect(
        await one(c, `SELECT contype, convalidated FROM pg_constraint WHERE conname = 'items_sku_unique'`),
      ).toEqual({ contype: 'u', convalidated: true });
      await expect(c.query(`INSERT INTO items VALUES (6, 'B-2', 1, NULL)`)).rejects.toThrow(/items_sku_unique/);
    },
  },
  {
    name: 'add_check',
    oldWriter: ITEMS_WRITER,
    example: 'add-check.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      expect(await count(c, `SELECT count(*) AS n FROM pg_constraint WHERE conname = 'items_price_positive'`)).toBe(0);
    },
    ruleBreakingWrite: {
      sql: `INSERT INTO items VALUES (4, 'D-4', -5, NULL)`,
      key: '4',
      fix: `UPDATE items SET price = 5 WHERE id = 4`,
    },
    afterComplete: async (c) => {
      expect(await one(c, `SELECT convalidated FROM pg_constraint WHERE conname = 'items_price_positive'`)).toEqual({
        convalidated: true,
      });
      await expect(c.query(`INSERT INTO items VALUES (7, 'E-7', -1, NULL)`)).rejects.toThrow(/items_price_positive/);
    },
  },
  {
    name: 'add_foreign_key',
    oldWriter: {
      insert: (i) => `INSERT INTO items VALUES (${1000 + i}, 'W-${i}', 1)`,
      update: (i) => `UPDATE items SET category_id = 2 WHERE id = ${1000 + i}`,
    },
    example: 'add-foreign-key.yaml',
    setup: `CREATE TABLE categories (id int PRIMARY KEY, name text);
            INSERT INTO categories VALUES (1, 'tools'), (2, 'toys');
            CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL, category_id int);
            INSERT INTO items VALUES (1, 'A-1', 1), (2, 'B-2', 2), (3, 'C-3', NULL);`,
    whileExpanded: async (c) => {
      expect(await count(c, `SELECT count(*) AS n FROM pg_constraint WHERE conname = 'items_category_fk'`)).toBe(0);
      // The old versions may still delete a category an item names.
      await c.query(
        `INSERT INTO categories VALUES (3, 'gone'); INSERT INTO items VALUES (10, 'G-10', 3); DELETE FROM categories WHERE id = 3; DELETE FROM items WHERE id = 10`,
      );
    },
    ruleBreakingWrite: {
      sql: `INSERT INTO items VALUES (4, 'D-4', 99)`,
      key: '4',
      fix: `INSERT INTO categories VALUES (99, 'misc')`,
    },
    afterComplete: async (c) => {
      expect(
        await one(c, `SELECT contype, convalidated FROM pg_constraint WHERE conname = 'items_category_fk'`),
      ).toEqual({ contype: 'f', convalidated: true });
      await expect(c.query(`INSERT INTO items VALUES (8, 'H-8', 42)`)).rejects.toThrow(/items_category_fk/);
      await c.query(`DELETE FROM categories WHERE id = 99`);
      expect(await count(c, `SELECT count(*) AS n FROM items WHERE id = 4`)).toBe(0); // on_delete: cascade
    },
  },
  {
    name: 'set_not_null',
    oldWriter: {
      insert: (i) => `INSERT INTO items (id, sku, price) VALUES (${1000 + i}, 'W-${i}', ${i})`,
      update: (i) => `UPDATE items SET note = 'n${i}' WHERE id = ${1000 + i}`,
    },
    example: 'set-not-null.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      // The old versions still write NULL into note; the new versions read note_text, never NULL.
      await c.query(`INSERT INTO items (id, sku, price, note) VALUES (4, 'D-4', 1, NULL)`);
      expect(await one(c, `SELECT note, note_text FROM items WHERE id = 4`)).toEqual({ note: null, note_text: '' });
      await c.query(`INSERT INTO items (id, sku, price, note_text) VALUES (5, 'E-5', 1, 'five')`);
      expect(await one(c, `SELECT note FROM items WHERE id = 5`)).toEqual({ note: 'five' });
    },
    afterComplete: async (c) => {
      expect(
        await one(
          c,
          `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'note_text'`,
        ),
      ).toEqual({ attnotnull: true });
      expect(
        (await c.query(`SELECT note_text FROM items WHERE id < 1000 ORDER BY id`)).rows.map((r) => r.note_text),
      ).toEqual(['', 'two', '', '', 'five']);
    },
  },
  {
    name: 'drop_not_null',
    oldWriter: {
      insert: (i) => `INSERT INTO items (id, sku, price) VALUES (${1000 + i}, 'W-${i}', ${i})`,
      update: (i) => `UPDATE items SET sku = 'U-${i}' WHERE id = ${1000 + i}`,
    },
    example: 'drop-not-null.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      // A new version writes NULL; the old versions read the down value in sku, which stays NOT NULL.
      await c.query(`INSERT INTO items (id, price, sku_optional) VALUES (4, 1, NULL)`);
      expect(await one(c, `SELECT sku, sku_optional FROM items WHERE id = 4`)).toEqual({
        sku: 'unknown',
        sku_optional: null,
      });
      await c.query(`INSERT INTO items (id, sku, price) VALUES (5, 'E-5', 1)`);
      expect(await one(c, `SELECT sku_optional FROM items WHERE id = 5`)).toEqual({ sku_optional: 'E-5' });
    },
    afterComplete: async (c) => {
      expect(
        await one(
          c,
          `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'sku_optional'`,
        ),
      ).toEqual({ attnotnull: false });
      await c.query(`INSERT INTO items (id, price) VALUES (6, 1)`);
    },
  },
  {
    name: 'set_default',
    oldWriter: {
      insert: (i) => `INSERT INTO items (id, sku) VALUES (${1000 + i}, 'W-${i}')`,
      update: (i) => `UPDATE items SET note = NULL, price = ${i} WHERE id = ${1000 + i}`,
    },
    example: 'set-default.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      // An old version's insert that omits note stores what it always did.
      await c.query(`INSERT INTO items (id, sku) VALUES (4, 'D-4')`);
      expect(await one(c, `SELECT note FROM items WHERE id = 4`)).toEqual({ note: null });
    },
    afterComplete: async (c) => {
      await c.query(`INSERT INTO items (id, sku) VALUES (5, 'E-5')`);
      expect(await one(c, `SELECT note FROM items WHERE id = 5`)).toEqual({ note: 'none' });
    },
  },
  {
    name: 'drop_default',
    oldWriter: {
      insert: (i) => `INSERT INTO items (id, sku) VALUES (${1000 + i}, 'W-${i}')`,
      update: (i) => `UPDATE items SET sku = 'U-${i}' WHERE id = ${1000 + i}`,
    },
    setup: `CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL, note text DEFAULT 'n/a'); INSERT INTO items VALUES (1, 'A-1', 'one');`,
    spec: `name: drop-default
table: items
operations:
  - drop_default: { column: note }`,
    whileExpanded: async (c) => {
      await c.query(`INSERT INTO items (id, sku) VALUES (4, 'D-4')`);
      expect(await one(c, `SELECT note FROM items WHERE id = 4`)).toEqual({ note: 'n/a' });
    },
    afterComplete: async (c) => {
      await c.query(`INSERT INTO items (id, sku) VALUES (5, 'E-5')`);
      expect(await one(c, `SELECT note FROM items WHERE id = 5`)).toEqual({ note: null });
    },
  },
  {
    name: 'create_table',
    oldWriter: ITEMS_WRITER,
    example: 'create-table.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      await c.query(`INSERT INTO item_tags (item_id, tag) VALUES (1, 'red')`);
      expect(await one(c, `SELECT item_id, tag, created_at IS NOT NULL AS stamped FROM item_tags`)).toEqual({
        item_id: 1,
        tag: 'red',
        stamped: true,
      });
      await expect(c.query(`INSERT INTO item_tags (item_id, tag) VALUES (1, 'red')`)).rejects.toThrow(/item_tags_pkey/);
    },
    afterComplete: async (c) => {
      expect(await count(c, `SELECT count(*) AS n FROM item_tags`)).toBe(1);
    },
  },
  {
    name: 'drop_table',
    oldWriter: {
      table: 'item_notes_legacy',
      insert: (i) => `INSERT INTO item_notes_legacy VALUES (${1000 + i}, 'w${i}')`,
      update: (i) => `UPDATE item_notes_legacy SET body = 'u${i}' WHERE id = ${1000 + i}`,
    },
    example: 'drop-table.yaml',
    setup: `${ITEMS} CREATE TABLE item_notes_legacy (id int PRIMARY KEY, body text); INSERT INTO item_notes_legacy VALUES (1, 'old');`,
    whileExpanded: async (c) => {
      // The old versions keep using it until contract.
      await c.query(`INSERT INTO item_notes_legacy VALUES (2, 'still written')`);
    },
    afterComplete: async (c) => {
      expect((await one(c, `SELECT to_regclass('item_notes_legacy') AS t`)).t).toBeNull();
    },
  },
  {
    name: 'raw_sql',
    oldWriter: ITEMS_WRITER,
    example: 'raw-sql.yaml',
    setup: ITEMS,
    whileExpanded: async (c) => {
      expect((await c.query(`SELECT id FROM items_public WHERE id < 1000 ORDER BY id`)).rows.map((r) => r.id)).toEqual([
        1, 2, 3,
      ]);
    },
    afterComplete: async (c) => {
      expect((await one(c, `SELECT obj_description('items'::regclass, 'pg_class') AS d`)).d).toBe('items, migrated');
    },
  },
  {
    name: 'drop_constraint',
    oldWriter: ITEMS_WRITER,
    example: 'drop-constraint.yaml',
    setup: `${ITEMS} ALTER TABLE items ADD CONSTRAINT items_price_range CHECK (price BETWEEN 1 AND 100000);`,
    whileExpanded: async (c) => {
      // Every version keeps the check until contract.
      await expect(c.query(`INSERT INTO items (id, sku, price) VALUES (7, 'G-7', 0)`)).rejects.toThrow(
        /items_price_range/,
      );
    },
    afterRollback: async (c) => {
      expect(
        await count(
          c,
          `SELECT count(*) AS n FROM pg_constraint WHERE conrelid = 'items'::regclass AND conname = 'items_price_range'`,
        ),
      ).toBe(1);
    },
    afterComplete: async (c) => {
      expect(
        await count(
          c,
          `SELECT count(*) AS n FROM pg_constraint WHERE conrelid = 'items'::regclass AND conname = 'items_price_range'`,
        ),
      ).toBe(0);
      await c.query(`INSERT INTO items (id, sku, price) VALUES (7, 'G-7', 0)`);
    },
  },
  {
    name: 'rename_constraint',
    oldWriter: ITEMS_WRITER,
    example: 'rename-constraint.yaml',
    setup: `${ITEMS} ALTER TABLE items ADD CONSTRAINT items_sku_key UNIQUE (sku);`,
    whileExpanded: async (c) => {
      // The old name, for every version, until contract.
      await c.query(
        `INSERT INTO items (id, sku, price) VALUES (7, 'G-7', 7) ON CONFLICT ON CONSTRAINT items_sku_key DO NOTHING`,
      );
    },
    afterComplete: async (c) => {
      expect(
        (await c.query(`SELECT conname FROM pg_constraint WHERE conrelid = 'items'::regclass AND contype = 'u'`)).rows,
      ).toEqual([{ conname: 'items_sku_unique' }]);
      expect(
        await one(
          c,
          `SELECT to_regclass('items_sku_unique') IS NOT NULL AS renamed, to_regclass('items_sku_key') IS NULL AS gone`,
        ),
      ).toEqual({ renamed: true, gone: true });
    },
  },
  {
    name: 'set_comment',
    oldWriter: ITEMS_WRITER,
    example: 'set-comment.yaml',
    setup: `${ITEMS} COMMENT ON COLUMN items.note IS 'free text, to be retired';`,
    whileExpanded: async (c) => {
      expect((await one(c, `SELECT col_description('items'::regclass, 4) AS d`)).d).toBe('free text, to be retired');
    },
    afterComplete: async (c) => {
      expect(
        await one(
          c,
          `SELECT obj_description('items'::regclass, 'pg_class') AS t, col_description('items'::regclass, 2) AS sku, col_description('items'::regclass, 4) AS note`,
        ),
      ).toEqual({ t: 'Things we sell, one row per SKU', sku: 'Stock keeping unit, upper case', note: null });
    },
  },
  {
    name: 'set_replica_identity',
    oldWriter: ITEMS_WRITER,
    example: 'set-replica-identity.yaml',
    setup: `${ITEMS} ALTER TABLE items ADD CONSTRAINT items_sku_key UNIQUE (sku);`,
    whileExpanded: async (c) => {
      expect((await one(c, `SELECT relreplident FROM pg_class WHERE oid = 'items'::regclass`)).relreplident).toBe('d');
    },
    afterComplete: async (c) => {
      expect((await one(c, `SELECT relreplident FROM pg_class WHERE oid = 'items'::regclass`)).relreplident).toBe('i');
      expect(
        (
          await one(
            c,
            `SELECT indexrelid::regclass::text AS i FROM pg_index WHERE indrelid = 'items'::regclass AND indisreplident`,
          )
        ).i,
      ).toBe('items_sku_key');
    },
  },
  {
    name: 'split, index the new columns, a foreign key on one, drop the old index',
    setupBreaksRule: true, // row 2's country 'gb' has no country
    oldWriter: {
      insert: (i) => `INSERT INTO customers (id, full_name, country) VALUES (${1000 + i}, 'W${i} Old', 'GB')`,
      update: (i) => `UPDATE customers SET full_name = 'W${i}  New', country = 'US' WHERE id = ${1000 + i}`,
    },
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
    ruleBreakingWrite: {
      sql: `UPDATE customers SET country = 'xx' WHERE id = 3`,
      key: '3',
      fix: `UPDATE customers SET country_code = 'GB' WHERE id IN (2, 3, 4)`,
    },
    afterComplete: async (c) => {
      expect(
        (await c.query(`SELECT id, first_name, last_name, country_code FROM customers WHERE id < 1000 ORDER BY id`))
          .rows,
      ).toEqual([
        { id: '1', first_name: 'Ada', last_name: 'Lovelace', country_code: 'GB' },
        { id: '2', first_name: 'Alan', last_name: ' Turing', country_code: 'GB' },
        { id: '3', first_name: 'Grace', last_name: 'Hopper', country_code: 'GB' },
        { id: '4', first_name: 'Tim', last_name: 'Berners-Lee', country_code: 'GB' },
      ]);
      expect(await indexState(c, 'customers_full_name_idx')).toBe('absent');
      expect(await indexState(c, 'customers_last_first_idx')).toBe('valid');
      expect(await one(c, `SELECT convalidated FROM pg_constraint WHERE conname = 'customers_country_fk'`)).toEqual({
        convalidated: true,
      });
    },
  },
];

/** Cases that stop at a phase with a typed error, leaving the database as it was (start) or as expanded (complete). */
const refusedCases: OperationCase[] = [
  {
    name: 'rename_table: refused when the spec is read',
    setup: ITEMS,
    spec: `name: rename-items
table: items
operations:
  - rename_table: { from: items, to: products }`,
    oldWriter: ITEMS_WRITER,
    expectError: { phase: 'plan', kind: 'refused', message: /rename_table is refused/ },
  },
  {
    name: 'rename_column onto a column that exists: start refused',
    setup: `CREATE TABLE accounts (id int PRIMARY KEY, mail text, email text); INSERT INTO accounts VALUES (1, 'a@example.com', NULL);`,
    spec: `name: rename-taken
table: accounts
operations:
  - rename_column: { from: mail, to: email }`,
    oldWriter: {
      insert: (i) => `INSERT INTO accounts (id, mail) VALUES (${1000 + i}, 'w${i}@example.com')`,
      update: (i) => `UPDATE accounts SET mail = 'u${i}' WHERE id = ${1000 + i}`,
    },
    expectError: { phase: 'start', kind: 'catalog', message: /email/ },
  },
  {
    name: 'change_type whose up raises on a row: start fails in the backfill, rollback restores everything',
    setup: `CREATE TABLE prices (id int PRIMARY KEY, price text NOT NULL); INSERT INTO prices VALUES (1, '1.5'), (2, 'n/a'), (3, '3');`,
    spec: `name: cents
table: prices
operations:
  - change_type: { column: price, into: cents, type: integer, up: "(price::numeric * 100)::integer", down: "(cents / 100.0)::text" }`,
    oldWriter: {
      insert: (i) => `INSERT INTO prices VALUES (${1000 + i}, '${i}.25')`,
      update: (i) => `UPDATE prices SET price = '${i}' WHERE id = ${1000 + i}`,
    },
    expectError: { phase: 'start', kind: 'step_failed', message: /invalid input syntax for type numeric: "n\/a"/ },
  },
  {
    name: 'add_unique over rows that are already duplicates: complete refused, nothing changed',
    setup: `${ITEMS} INSERT INTO items VALUES (4, 'A-1', 40, NULL);`,
    example: 'add-unique.yaml',
    oldWriter: ITEMS_WRITER,
    expectError: { phase: 'complete', kind: 'refused', message: /contract refused/ },
  },
];

const cases = [...columnCases, ...objectCases, ...refusedCases];

describe.each(cases)('$name: start -> rollback -> start -> complete', (tc) => {
  it('keeps every old write, rolls back exactly, and ends with the new shape', async () => {
    await runOperationCase(tc);
  });
});

it('every operation kind has a case in the harness', () => {
  const text = (tc: OperationCase) =>
    tc.example ? fs.readFileSync(path.join(MIGRATIONS, tc.example), 'utf8') : tc.spec!;
  const kinds = new Set(
    cases.flatMap((tc) => (parse(text(tc)).operations as object[]).flatMap((op) => Object.keys(op))),
  );
  expect([...kinds].sort()).toEqual([...OPERATION_KINDS].sort());
});

it('every example in migrations/ parses', () => {
  for (const file of fs.readdirSync(MIGRATIONS).filter((f) => f.endsWith('.yaml'))) {
    expect(() => parseSpec(fs.readFileSync(path.join(MIGRATIONS, file), 'utf8'), file)).not.toThrow();
  }
});

it('tandem sql shows the object work of each step where it runs: concurrent builds outside the transactions, enforcement at contract', async () => {
  const url = await freshDatabase('objsql');
  await withClient(url, (c) => c.query(objectCases.find((x) => x.example === 'split-and-index.yaml')!.setup));
  const spec = parseSpec(fs.readFileSync(path.join(MIGRATIONS, 'split-and-index.yaml'), 'utf8'));
  const o = { databaseUrl: url };
  const expandSql = await planStepSql(spec, 'expand', o);
  expect(expandSql).toMatch(
    /COMMIT;\n\n-- after expand commits: outside the transaction[^\n]*\n-- create-index-customers_last_first_idx[^\n]*\nCREATE INDEX CONCURRENTLY "customers_last_first_idx" ON "public"."customers" USING btree \("last_name", "first_name"\);/,
  );
  const contractSql = await planStepSql(spec, 'contract', o);
  expect(contractSql).toContain(
    'ALTER TABLE "public"."customers" ADD CONSTRAINT "customers_country_fk" FOREIGN KEY ("country_code") REFERENCES "public"."countries" ("code") ON DELETE NO ACTION ON UPDATE NO ACTION NOT VALID;',
  );
  expect(contractSql).toContain('ALTER TABLE "public"."customers" VALIDATE CONSTRAINT "customers_country_fk";');
  expect(contractSql.indexOf('VALIDATE CONSTRAINT "customers_country_fk"')).toBeLessThan(contractSql.indexOf('BEGIN;'));
  expect(contractSql).toMatch(
    /COMMIT;\n\n-- after contract commits[^\n]*\n-- drop-index-customers_full_name_idx\nDROP INDEX CONCURRENTLY IF EXISTS "public"."customers_full_name_idx";/,
  );
  const rollbackSql = await planStepSql(spec, 'rollback', o);
  expect(rollbackSql.indexOf('DROP INDEX CONCURRENTLY IF EXISTS "public"."customers_last_first_idx"')).toBeLessThan(
    rollbackSql.indexOf('BEGIN;'),
  );
  expect(rollbackSql).toContain('ALTER TABLE "public"."customers" DROP CONSTRAINT IF EXISTS "customers_country_fk";');
});
