import * as fs from 'fs';
import * as path from 'path';
import { Client } from 'pg';
import { backfill, contract, expand, rollback, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, withClient } from './db';
import { snapshotSchema } from './object-snapshot';

/**
 * The operations that change the catalog only (constraints dropped or renamed, comments, replica
 * identity, tables with their constraints, indexes with their options), each from its example in
 * migrations/ (with its .schema.sql), through start -> rollback -> start -> complete on a real
 * PostgreSQL: rollback leaves the catalog (with column comments and replica identity) and the rows
 * exactly as they were; while expanded, the old versions' writes behave as before the migration;
 * after contract the new catalog holds.
 */
interface CatalogCase {
  /** The example in migrations/ (with its .schema.sql), or a name for `spec` and `schema`. */
  example: string;
  spec?: string;
  schema?: string;
  /** Rows, after the example's .schema.sql. */
  rows?: string;
  /** Old versions at work while expanded: what they rely on still holds. */
  whileExpanded: (c: Client) => Promise<void>;
  afterContract: (c: Client) => Promise<void>;
}

const MIGRATIONS = path.join(__dirname, '..', 'migrations');
const one = async (c: Client, q: string, v: unknown[] = []) => (await c.query(q, v)).rows[0];
const ITEM_ROWS = `INSERT INTO items (sku, price, note) VALUES ('A-1', 10, NULL), ('B-2', 20, 'two'), ('C-3', 30, NULL)`;

/** snapshotSchema, plus what it leaves out and these operations change: column comments and replica identity. */
async function catalog(c: Client): Promise<Record<string, string[]>> {
  const q = async (text: string) => (await c.query(text)).rows.map((r) => r.x as string);
  return {
    ...(await snapshotSchema(c)),
    columnComments: await q(
      `SELECT c.relname || '.' || a.attname || ' ' || d.description AS x FROM pg_description d JOIN pg_class c ON c.oid = d.objoid JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
        WHERE d.classoid = 'pg_class'::regclass AND d.objsubid > 0 AND c.relnamespace = 'public'::regnamespace ORDER BY 1`,
    ),
    replicaIdentity: await q(
      `SELECT relname || ' ' || relreplident::text AS x FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY 1`,
    ),
    indexOptions: await q(
      `SELECT relname || ' ' || array_to_string(reloptions, ',') AS x FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'i' AND reloptions IS NOT NULL ORDER BY 1`,
    ),
  };
}

const cases: CatalogCase[] = [
  {
    example: 'drop-constraint.yaml',
    rows: ITEM_ROWS,
    whileExpanded: async (c) => {
      // The old versions keep their check until contract.
      await expect(c.query(`INSERT INTO items (sku, price) VALUES ('X-0', 0)`)).rejects.toThrow(/items_price_range/);
      await c.query(`UPDATE items SET price = 15 WHERE sku = 'A-1'`);
    },
    afterContract: async (c) => {
      expect(await one(c, `SELECT count(*)::int AS n FROM pg_constraint WHERE conname = 'items_price_range'`)).toEqual({
        n: 0,
      });
      await c.query(`INSERT INTO items (sku, price) VALUES ('X-0', 0)`);
    },
  },
  {
    example: 'rename-constraint.yaml',
    rows: ITEM_ROWS,
    whileExpanded: async (c) => {
      // An old version names the constraint: it keeps its name until contract.
      await c.query(
        `INSERT INTO items (sku, price) VALUES ('A-1', 99) ON CONFLICT ON CONSTRAINT items_sku_key DO NOTHING`,
      );
      await c.query(
        `INSERT INTO items (sku, price) VALUES ('D-4', 40) ON CONFLICT ON CONSTRAINT items_sku_key DO UPDATE SET price = 41`,
      );
    },
    afterContract: async (c) => {
      expect(
        (
          await c.query(
            `SELECT conname, conindid::regclass::text AS idx FROM pg_constraint WHERE conrelid = 'items'::regclass AND contype = 'u'`,
          )
        ).rows,
      ).toEqual([{ conname: 'items_sku_unique', idx: 'items_sku_unique' }]);
      await c.query(
        `INSERT INTO items (sku, price) VALUES ('A-1', 99) ON CONFLICT ON CONSTRAINT items_sku_unique DO NOTHING`,
      );
      expect(await one(c, `SELECT count(*)::int AS n FROM items WHERE sku = 'A-1'`)).toEqual({ n: 1 });
    },
  },
  {
    example: 'set-comment.yaml',
    rows: ITEM_ROWS,
    whileExpanded: async (c) => {
      expect(
        await one(
          c,
          `SELECT obj_description('items'::regclass, 'pg_class') AS t, col_description('items'::regclass, 4) AS n`,
        ),
      ).toEqual({ t: null, n: 'free text, to be retired' });
      await c.query(`UPDATE items SET note = 'x' WHERE sku = 'A-1'`);
    },
    afterContract: async (c) => {
      expect(
        await one(
          c,
          `SELECT obj_description('items'::regclass, 'pg_class') AS t, col_description('items'::regclass, 2) AS s, col_description('items'::regclass, 4) AS n`,
        ),
      ).toEqual({
        t: 'Things we sell, one row per SKU',
        s: 'Stock keeping unit, upper case',
        n: null,
      });
    },
  },
  {
    example: 'set-replica-identity.yaml',
    rows: ITEM_ROWS,
    whileExpanded: async (c) => {
      expect(await one(c, `SELECT relreplident AS r FROM pg_class WHERE oid = 'items'::regclass`)).toEqual({ r: 'd' });
      await c.query(`UPDATE items SET price = 11 WHERE sku = 'A-1'`);
      await c.query(`DELETE FROM items WHERE sku = 'C-3'`);
    },
    afterContract: async (c) => {
      expect(await one(c, `SELECT relreplident AS r FROM pg_class WHERE oid = 'items'::regclass`)).toEqual({ r: 'i' });
      expect(
        await one(
          c,
          `SELECT indexrelid::regclass::text AS i FROM pg_index WHERE indrelid = 'items'::regclass AND indisreplident`,
        ),
      ).toEqual({ i: 'items_sku_key' });
    },
  },
  {
    example: 'create-table-constraints.yaml',
    rows: ITEM_ROWS,
    whileExpanded: async (c) => {
      // The new versions write the new table; its constraints hold from expand on.
      await c.query(
        `INSERT INTO item_bookings (item_id, reference, during) VALUES (1, 'R-1', '[2026-01-01,2026-01-05)'), (1, 'R-2', '[2026-01-05,2026-01-07)'), (2, 'R-3', '[2026-01-01,2026-01-05)')`,
      );
      expect((await c.query(`SELECT id FROM item_bookings ORDER BY id`)).rows).toEqual([
        { id: '1' },
        { id: '2' },
        { id: '3' },
      ]);
      await expect(
        c.query(
          `INSERT INTO item_bookings (id, item_id, reference, during) VALUES (9, 1, 'R-9', '[2027-01-01,2027-01-02)')`,
        ),
      ).rejects.toThrow(/non-DEFAULT value into column "id"/);
      await expect(
        c.query(`INSERT INTO item_bookings (item_id, reference, during) VALUES (1, 'R-4', '[2026-01-04,2026-01-06)')`),
      ).rejects.toThrow(/item_bookings_no_overlap/);
      await expect(
        c.query(`INSERT INTO item_bookings (item_id, reference, during) VALUES (3, 'R-1', '[2027-01-01,2027-01-02)')`),
      ).rejects.toThrow(/item_bookings_reference_key/);
      await expect(
        c.query(
          `INSERT INTO item_bookings (item_id, reference, quantity, during) VALUES (3, 'R-5', 0, '[2027-01-01,2027-01-02)')`,
        ),
      ).rejects.toThrow(/item_bookings_quantity_positive/);
      await expect(
        c.query(`INSERT INTO item_bookings (item_id, reference, during) VALUES (99, 'R-6', '[2027-01-01,2027-01-02)')`),
      ).rejects.toThrow(/item_bookings_item_fk/);
      // The old versions write items as before; a delete cascades to the new table, as its foreign key says.
      await c.query(`UPDATE items SET price = 12 WHERE id = 1`);
      await c.query(`DELETE FROM items WHERE id = 2`);
      expect(await one(c, `SELECT count(*)::int AS n FROM item_bookings WHERE item_id = 2`)).toEqual({ n: 0 });
    },
    afterContract: async (c) => {
      expect(
        (
          await c.query(
            `SELECT conname, contype FROM pg_constraint WHERE conrelid = 'item_bookings'::regclass ORDER BY conname`,
          )
        ).rows,
      ).toEqual([
        { conname: 'item_bookings_item_fk', contype: 'f' },
        { conname: 'item_bookings_no_overlap', contype: 'x' },
        { conname: 'item_bookings_pk', contype: 'p' },
        { conname: 'item_bookings_quantity_positive', contype: 'c' },
        { conname: 'item_bookings_reference_key', contype: 'u' },
      ]);
      expect(
        await one(
          c,
          `SELECT attidentity AS i FROM pg_attribute WHERE attrelid = 'item_bookings'::regclass AND attname = 'id'`,
        ),
      ).toEqual({ i: 'a' });
    },
  },
  {
    example: 'create-index-options.yaml',
    rows: `INSERT INTO items (sku, price, attrs, created_at) VALUES ('A-1', 10, '{"color": "red"}', '2026-01-01'), ('B-2', 0, '{"color": "blue"}', '2026-01-02')`,
    whileExpanded: async (c) => {
      const defs = (
        await c.query(
          `SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def, indisvalid AS valid FROM pg_index WHERE indrelid = 'items'::regclass AND NOT indisprimary ORDER BY 1`,
        )
      ).rows;
      expect(defs).toEqual([
        {
          name: 'items_attrs_idx',
          valid: true,
          def: "CREATE INDEX items_attrs_idx ON public.items USING gin (attrs jsonb_path_ops) WITH (fastupdate='false')",
        },
        {
          name: 'items_created_brin_idx',
          valid: true,
          def: "CREATE INDEX items_created_brin_idx ON public.items USING brin (created_at) WITH (pages_per_range='32')",
        },
        {
          name: 'items_price_range_idx',
          valid: true,
          def: "CREATE INDEX items_price_range_idx ON public.items USING gist (numrange((price)::numeric, (price)::numeric, '[]'::text)) WITH (buffering=auto)",
        },
        {
          name: 'items_sku_hash_idx',
          valid: true,
          def: 'CREATE INDEX items_sku_hash_idx ON public.items USING hash (sku)',
        },
        {
          name: 'items_sku_prefix_idx',
          valid: true,
          def: "CREATE INDEX items_sku_prefix_idx ON public.items USING btree (sku text_pattern_ops) INCLUDE (price) WITH (fillfactor='80', deduplicate_items='true') WHERE (price > 0)",
        },
      ]);
      // The old versions write as before.
      await c.query(`INSERT INTO items (sku, price, attrs) VALUES ('C-3', 5, '{"color": "green"}')`);
      await c.query(`UPDATE items SET attrs = '{"color": "black"}' WHERE sku = 'A-1'`);
    },
    afterContract: async (c) => {
      await c.query(`SET enable_seqscan = off`);
      const plan = (await c.query(`EXPLAIN (COSTS OFF) SELECT id FROM items WHERE attrs @> '{"color": "black"}'`)).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      expect(plan).toContain('items_attrs_idx');
      await c.query(`RESET enable_seqscan`);
    },
  },
  {
    example: 'create_index options on a partitioned table',
    spec: `name: part-index-options\ntable: items\noperations:\n  - create_index: { name: items_sku_prefix_idx, columns: [{ column: sku, opclass: text_pattern_ops }], include: [price], with: { fillfactor: 70 } }\n`,
    schema: `CREATE TABLE items (id bigint NOT NULL, sku text NOT NULL, price integer, PRIMARY KEY (id)) PARTITION BY RANGE (id);
      CREATE TABLE items_1 PARTITION OF items FOR VALUES FROM (0) TO (1000); CREATE TABLE items_2 PARTITION OF items FOR VALUES FROM (1000) TO (2000);`,
    rows: `INSERT INTO items VALUES (1, 'A-1', 10), (1500, 'B-2', 20)`,
    whileExpanded: async (c) => {
      const defs = (
        await c.query(
          `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE '%sku%' ORDER BY 1`,
        )
      ).rows;
      expect(defs.map((d) => d.valid)).toEqual([true, true, true]);
      for (const d of defs)
        expect(d.def).toMatch(/USING btree \(sku text_pattern_ops\) INCLUDE \(price\) WITH \(fillfactor='70'\)$/);
      await c.query(`INSERT INTO items VALUES (2, 'C-3', 5)`);
    },
    afterContract: async (c) => {
      expect(
        await one(c, `SELECT indisvalid AS v FROM pg_index WHERE indexrelid = 'items_sku_prefix_idx'::regclass`),
      ).toEqual({ v: true });
    },
  },
  ...(['full', 'nothing', 'default'] as const).map((identity): CatalogCase => ({
    example: `set_replica_identity ${identity}`,
    spec: `name: replica-identity-${identity}\ntable: items\noperations:\n  - set_replica_identity: { identity: ${identity} }\n`,
    // Starting from FULL, so that default changes something too.
    schema: `CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sku text NOT NULL, price integer, note text); ALTER TABLE items REPLICA IDENTITY ${identity === 'full' ? 'NOTHING' : 'FULL'};`,
    rows: ITEM_ROWS,
    whileExpanded: async (c) => {
      await c.query(`UPDATE items SET price = 11 WHERE sku = 'A-1'`);
    },
    afterContract: async (c) => {
      expect(await one(c, `SELECT relreplident AS r FROM pg_class WHERE oid = 'items'::regclass`)).toEqual({
        r: identity[0],
      });
    },
  })),
];

describe.each(cases)('$example: start -> rollback -> start -> complete', (tc) => {
  it('rolls back exactly, leaves the old versions what they rely on, and ends in the new catalog', async () => {
    const url = await freshDatabase('catops');
    const spec = parseSpec(tc.spec ?? fs.readFileSync(path.join(MIGRATIONS, tc.example), 'utf8'), tc.example);
    const schemaSql =
      tc.schema ?? fs.readFileSync(path.join(MIGRATIONS, tc.example.replace(/\.yaml$/, '.schema.sql')), 'utf8');
    const o = { databaseUrl: url, lockTimeoutMs: 500 };
    await withClient(url, async (c) => {
      await c.query(schemaSql);
      if (tc.rows) await c.query(tc.rows);
      const original = await catalog(c);
      const rows = async () =>
        (await c.query(`SELECT json_agg(t ORDER BY 1)::text AS r FROM ${spec.table} t`)).rows[0].r;
      const originalRows = await rows();

      expect((await expand(spec, o)).changed).toBe(true);
      await backfill(spec, o);
      expect((await rollback(spec, o)).step).toBe('rolled_back');
      expect(await catalog(c)).toEqual(original);
      expect(await rows()).toBe(originalRows);

      expect((await expand(spec, o)).changed).toBe(true);
      expect((await expand(spec, o)).changed).toBe(false);
      await backfill(spec, o);
      await tc.whileExpanded(c);
      expect(await verify(spec, o)).toMatchObject({ ok: true });

      expect((await contract(spec, o)).step).toBe('contracted');
      expect((await contract(spec, o)).changed).toBe(false);
      const after = await catalog(c);
      expect(after.triggers).toEqual([]);
      expect(after.constraints.filter((x) => / NOT VALID$/.test(x) || x.includes('_tandem'))).toEqual([]);
      await tc.afterContract(c);
    });
  });
});

describe('refused before expand, naming the field and leaving nothing behind', () => {
  const SETUP = `CREATE TABLE items (id int PRIMARY KEY, sku text CONSTRAINT items_sku_key UNIQUE, price int CONSTRAINT items_price_positive CHECK (price > 0));
    CREATE TABLE orders (id int PRIMARY KEY, sku text CONSTRAINT orders_sku_fk REFERENCES items (sku));
    CREATE INDEX items_price_idx ON items (price); CREATE PUBLICATION items_pub FOR TABLE items;`;
  it.each([
    [
      'a constraint that does not exist',
      `drop_constraint: { name: items_nope }`,
      /operations\[0\]\.drop_constraint\.name: constraint "items_nope" does not exist on table public\.items/,
    ],
    [
      'the primary key Tandem walks the table by',
      `drop_constraint: { name: items_pkey }`,
      /items_pkey" is the primary key of public\.items/,
    ],
    [
      'a unique constraint a foreign key references through',
      `drop_constraint: { name: items_sku_key }`,
      /items_sku_key" has the unique index a foreign key references through/,
    ],
    [
      'a rename of a constraint that does not exist',
      `rename_constraint: { from: items_nope, to: items_x }`,
      /rename_constraint\.from: constraint "items_nope" does not exist/,
    ],
    [
      'a rename onto an existing constraint',
      `rename_constraint: { from: items_sku_key, to: items_price_positive }`,
      /rename_constraint\.to: constraint "items_price_positive" already exists/,
    ],
    [
      'a comment on a column that does not exist',
      `set_comment: { column: nope, comment: x }`,
      /set_comment\.column: column "nope" does not exist in table public\.items/,
    ],
    [
      'a comment on a table that does not exist',
      `set_comment: { table: nope, comment: x }`,
      /set_comment\.table: table public\.nope does not exist/,
    ],
    [
      'a comment on a column of another table that does not exist',
      `set_comment: { table: orders, column: nope, comment: x }`,
      /set_comment\.column: column "nope" does not exist in table public\.orders/,
    ],
    [
      'a replica identity index that is not unique',
      `set_replica_identity: { identity: index, index: items_price_idx }`,
      /set_replica_identity\.index: index "items_price_idx" cannot be the replica identity/,
    ],
    [
      'a replica identity index on a nullable column',
      `set_replica_identity: { identity: index, index: items_sku_key }`,
      /set_replica_identity\.index: index "items_sku_key" cannot be the replica identity/,
    ],
    [
      'a replica identity index that does not exist',
      `set_replica_identity: { identity: index, index: nope }`,
      /index "nope" cannot be the replica identity/,
    ],
    [
      'replica identity nothing on a table a publication sends updates of',
      `set_replica_identity: { identity: nothing }`,
      /would make PostgreSQL refuse every UPDATE and DELETE/,
    ],
    [
      'a foreign key onto columns without a unique index',
      `create_table: { name: t2, columns: [{ name: id, type: int }, { name: p, type: int }], primary_key: [id], constraints: [{ name: t2_fk, type: foreign_key, columns: [p], references: { table: items, columns: [price] } }] }`,
      /create_table\.constraints\[0\]\.references: foreign key "t2_fk" references public\.items \(price\), which is not a table with a primary key or unique index on exactly those columns/,
    ],
    [
      'a constraint whose index would take the name of a relation',
      `create_table: { name: t2, columns: [{ name: id, type: int }], constraints: [{ name: orders, type: primary_key, columns: [id] }] }`,
      /create_table\.constraints\[0\]\.name: the index of constraint "orders" cannot be created: a relation of that name already exists/,
    ],
    [
      'a rename whose index would take the name of a relation',
      `rename_constraint: { from: items_sku_key, to: orders }`,
      /a relation named "orders" already exists in schema public/,
    ],
  ])('%s', async (_what, op, message) => {
    const url = await freshDatabase('catref');
    await withClient(url, (c) => c.query(SETUP));
    const spec = parseSpec(`name: refused\ntable: items\noperations:\n  - ${op}\n`);
    await expect(expand(spec, { databaseUrl: url })).rejects.toThrow(message);
    await withClient(url, async (c) =>
      expect(await one(c, `SELECT to_regclass('tandem.migrations') IS NULL AS none`)).toEqual({ none: true }),
    );
  });
});

describe('create_table: a foreign key onto an existing table', () => {
  // PostgreSQL accepts a foreign key onto the key columns of a unique index that also INCLUDEs
  // others; the check before expand compares the key columns only.
  it('references a unique index with INCLUDE columns by its key columns, and is refused on the included ones', async () => {
    const url = await freshDatabase('fkinclude');
    await withClient(url, (c) =>
      c.query(`CREATE TABLE parents (id int PRIMARY KEY, code text NOT NULL, note text);
        CREATE UNIQUE INDEX parents_code_key ON parents (code) INCLUDE (note);
        INSERT INTO parents VALUES (1, 'a', 'x');`),
    );
    const specOf = (columns: string) =>
      parseSpec(
        `name: children\noperations:\n  - create_table: { name: children, columns: [{ name: id, type: int }, { name: parent, type: text }], primary_key: [id], constraints: [{ name: children_parent_fk, type: foreign_key, columns: [parent], references: { table: parents, columns: [${columns}] } }] }\n`,
      );
    await expect(expand(specOf('note'), { databaseUrl: url })).rejects.toThrow(
      /which is not a table with a primary key or unique index on exactly those columns/,
    );
    const spec = specOf('code');
    await expand(spec, { databaseUrl: url });
    await contract(spec, { databaseUrl: url });
    await withClient(url, async (c) => {
      await c.query(`INSERT INTO children VALUES (1, 'a')`);
      await expect(c.query(`INSERT INTO children VALUES (2, 'zz')`)).rejects.toThrow(/children_parent_fk/);
    });
  });
});

describe('drop_constraint of a foreign key', () => {
  // A foreign key's conindid is the index of the key it references: the check for "a foreign key
  // references through this constraint's index" must not take a foreign key for a key, nor match it
  // (or another table's foreign key of the same name onto the same key: pgroll's example 24).
  it('drops it from the spec table only, while another table has a foreign key of the same name onto the same key', async () => {
    const url = await freshDatabase('dropfk');
    await withClient(url, (c) =>
      c.query(`CREATE TABLE users (id int PRIMARY KEY);
        CREATE TABLE orders (id int PRIMARY KEY, user_id int CONSTRAINT fk_users_id REFERENCES users (id));
        CREATE TABLE posts (id int PRIMARY KEY, user_id int CONSTRAINT fk_users_id REFERENCES users (id));
        INSERT INTO users VALUES (1); INSERT INTO orders VALUES (1, 1); INSERT INTO posts VALUES (1, 1);`),
    );
    const spec = parseSpec(
      `name: drop-posts-fk\ntable: posts\noperations:\n  - drop_constraint: { name: fk_users_id }\n`,
    );
    const o = { databaseUrl: url };
    await expand(spec, o);
    await backfill(spec, o);
    expect(await verify(spec, o)).toMatchObject({ ok: true });
    await contract(spec, o);
    await withClient(url, async (c) => {
      const left = (
        await c.query(
          `SELECT conrelid::regclass::text AS t FROM pg_constraint WHERE conname = 'fk_users_id' ORDER BY 1`,
        )
      ).rows.map((r) => r.t);
      expect(left).toEqual(['orders']);
      await c.query(`INSERT INTO posts VALUES (2, 99)`);
      await expect(c.query(`INSERT INTO orders VALUES (2, 99)`)).rejects.toThrow(/fk_users_id/);
    });
  });
});

describe('create_index options: refused offline or by the trial, naming the field', () => {
  const SETUP = `CREATE TABLE items (id int PRIMARY KEY, sku text, attrs jsonb)`;
  const spec = (index: string) =>
    `name: x\ntable: items\noperations:\n  - create_index: { name: items_x_idx, ${index} }\n`;
  it.each([
    [
      'a storage parameter value that is not a word',
      `columns: [sku], with: { fillfactor: "80); DROP TABLE items; --" }`,
      'operations[0].create_index.with.fillfactor: must be a number, true or false, or a word',
    ],
    [
      'a storage parameter name that is not one',
      `columns: [sku], with: { "Fill Factor": 80 }`,
      'is not a storage parameter name',
    ],
    [
      'an operator class that is not a name',
      `columns: [{ column: sku, opclass: "text_ops DESC; --" }]`,
      'operations[0].create_index.columns[0].opclass: must be an operator class name',
    ],
    [
      'an element with both column and expression',
      `columns: [{ column: sku, expression: "lower(sku)" }]`,
      'operations[0].create_index.columns[0]: must give one of column or expression',
    ],
  ])('%s', (_what, index, message) => {
    expect(() => parseSpec(spec(index))).toThrow(message);
  });

  it.each([
    [
      'a storage parameter the method does not take',
      `columns: [sku], with: { fastupdate: false }`,
      /unrecognized parameter "fastupdate"/,
    ],
    [
      'an operator class the method does not have',
      `columns: [{ column: attrs, opclass: jsonb_path_ops }]`,
      /operator class "jsonb_path_ops" does not exist for access method "btree"/,
    ],
  ])('%s: the trial refuses it before anything is built', async (_what, index, message) => {
    const url = await freshDatabase('idxopt');
    await withClient(url, (c) => c.query(SETUP));
    await expect(expand(parseSpec(spec(index)), { databaseUrl: url })).rejects.toThrow(message);
    await withClient(url, async (c) =>
      expect(await one(c, `SELECT count(*)::int AS n FROM pg_class WHERE relname = 'items_x_idx'`)).toEqual({ n: 0 }),
    );
  });
});

describe('create_table constraints and identity: refused offline, naming the field', () => {
  const table = (extra: string) =>
    `name: x\ntable: items\noperations:\n  - create_table: { name: t2, columns: [{ name: id, type: int }, { name: a, type: int }], ${extra} }\n`;
  it.each([
    [
      'no primary key at all',
      `constraints: [{ name: t2_a, type: unique, columns: [a] }]`,
      'operations[0].create_table.primary_key: is missing',
    ],
    [
      'a primary key twice',
      `primary_key: [id], constraints: [{ name: t2_pk, type: primary_key, columns: [id] }]`,
      'operations[0].create_table.primary_key: is given twice',
    ],
    [
      'a constraint on a column the table does not have',
      `primary_key: [id], constraints: [{ name: t2_b, type: unique, columns: [b] }]`,
      'operations[0].create_table.constraints[0].columns[0]: "b" is not one of the table\'s columns',
    ],
    [
      'a field of another constraint type',
      `primary_key: [id], constraints: [{ name: t2_c, type: check, check: "a > 0", columns: [a] }]`,
      'operations[0].create_table.constraints[0].columns: is not a field of a check constraint',
    ],
    [
      'a constraint type that is not one',
      `primary_key: [id], constraints: [{ name: t2_c, type: index, columns: [a] }]`,
      'operations[0].create_table.constraints[0].type: must be one of primary_key, unique, check, foreign_key, exclude',
    ],
    [
      'an exclusion operator that is not an operator',
      `primary_key: [id], constraints: [{ name: t2_x, type: exclude, elements: [{ column: a, with: "= 1) --" }] }]`,
      'operations[0].create_table.constraints[0].elements[0].with: must be an operator',
    ],
    [
      'an exclusion element with both column and expression',
      `primary_key: [id], constraints: [{ name: t2_x, type: exclude, elements: [{ column: a, expression: "a + 1", with: "=" }] }]`,
      'must give one of column or expression',
    ],
    [
      'two constraints of one name',
      `primary_key: [id], constraints: [{ name: t2_a, type: unique, columns: [a] }, { name: t2_a, type: check, check: "a > 0" }]`,
      'operations[0].create_table.constraints: names "t2_a" twice',
    ],
  ])('%s', (_what, extra, message) => {
    expect(() => parseSpec(table(extra))).toThrow(message);
  });

  it('an identity column takes no default', () => {
    expect(() =>
      parseSpec(
        `name: x\ntable: items\noperations:\n  - create_table: { name: t2, columns: [{ name: id, type: int, identity: always, default: 1 }], primary_key: [id] }\n`,
      ),
    ).toThrow('operations[0].create_table.columns[0].identity: an identity column takes no default');
  });
});
