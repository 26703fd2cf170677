import { Client } from 'pg';
import { backfill, contract, expand, rollback, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, withClient } from './db';

/**
 * Constraints, indexes and comments follow the column Tandem replaces: after contract the catalog
 * holds, under the user's own names, what a schema written with the new column from the start
 * holds (same definitions, comments, validation, deferral). Compared with exactly that schema,
 * built in a second database from the same DDL with the column names replaced.
 */
const opts = (url: string) => ({ databaseUrl: url, lockTimeoutMs: 2000 });

async function objects(c: Client): Promise<Record<string, string[]>> {
  const q = async (text: string) => (await c.query(text)).rows.map((r) => r.x as string);
  return {
    indexes:
      await q(`SELECT c.relname || ': ' || pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END || coalesce(' -- ' || obj_description(i.indexrelid, 'pg_class'), '') AS x
                        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1`),
    constraints:
      await q(`SELECT conrelid::regclass::text || ' ' || conname || ': ' || pg_get_constraintdef(oid) || CASE WHEN convalidated THEN '' ELSE ' NOT VALID' END
                                 || CASE WHEN condeferrable THEN ' deferrable' ELSE '' END || coalesce(' -- ' || obj_description(oid, 'pg_constraint'), '') AS x
                            FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype <> 'n' AND conname NOT LIKE '\\_tandem%' ORDER BY 1`),
    comments:
      await q(`SELECT c.relname || '.' || a.attname || ': ' || col_description(c.oid, a.attnum) AS x FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                         WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NOT NULL ORDER BY 1`),
  };
}

const schema = (sku: string, parent: string, qty: string, qtyType: string) => `
  CREATE TABLE parents (id int PRIMARY KEY);
  INSERT INTO parents VALUES (1), (2);
  CREATE TABLE items (
    id int PRIMARY KEY,
    ${sku} text,
    ${qty} ${qtyType},
    ${parent} int,
    CONSTRAINT items_sku_key UNIQUE (${sku}),
    CONSTRAINT items_sku_qty_key UNIQUE (${sku}, ${qty}) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT items_sku_check CHECK (${sku} <> '' AND length(${sku}) < 20),
    CONSTRAINT items_qty_check CHECK (${qty} >= 0),
    CONSTRAINT items_parent_fk FOREIGN KEY (${parent}) REFERENCES parents (id) ON DELETE CASCADE
  );
  CREATE INDEX items_lower_sku_idx ON items (lower(${sku})) WHERE ${qty} > 0;
  CREATE INDEX items_qty_sku_idx ON items (${qty}, ${sku} DESC);
  CREATE UNIQUE INDEX items_sku_upper_key ON items (upper(${sku}));
  COMMENT ON COLUMN items.${sku} IS 'stock keeping unit';
  COMMENT ON INDEX items_lower_sku_idx IS 'search by sku';
  COMMENT ON CONSTRAINT items_sku_check ON items IS 'short, non-empty';
  COMMENT ON CONSTRAINT items_sku_key ON items IS 'one per sku';
`;

describe('indexes, constraints and comments follow the replaced column', () => {
  it('rename_column, change_type and set_not_null: contract ends with the objects as the user had them, on the new columns', async () => {
    const url = await freshDatabase('carry');
    const reference = await freshDatabase('carryref');
    await withClient(url, (c) =>
      c.query(`${schema('sku', 'parent_id', 'qty', 'int')} INSERT INTO items VALUES (1, 'a', 1, 1), (2, 'b', 2, 2)`),
    );
    await withClient(reference, (c) => c.query(schema('code', 'parent', 'quantity', 'bigint')));
    const spec = parseSpec(`name: carry-objects
table: items
operations:
  - rename_column: { from: sku, to: code }
  - set_not_null: { column: parent_id, into: parent, up: "coalesce(parent_id, 1)" }
  - change_type: { column: qty, into: quantity, type: bigint, up: "qty::bigint", down: "quantity::int" }
`);
    const before = await withClient(url, objects);
    await expand(spec, opts(url));
    // During the window the old versions write the old columns; every original still holds.
    await withClient(url, async (c) => {
      await c.query(`INSERT INTO items (id, sku, qty, parent_id) VALUES (3, 'c', 3, 1)`);
      await expect(c.query(`INSERT INTO items (id, sku, qty, parent_id) VALUES (4, 'c', 4, 1)`)).rejects.toThrow(
        /items_sku_key/,
      );
      expect((await objects(c)).constraints.filter((x) => !x.includes('_tandem_c_'))).toEqual(before.constraints);
    });
    await backfill(spec, opts(url));
    expect((await verify(spec, opts(url))).ok).toBe(true);
    const done = await contract(spec, opts(url));
    expect(done.step).toBe('contracted');
    const after = await withClient(url, objects);
    const expected = await withClient(reference, objects);
    expect(expected.indexes.length).toBe(7);
    expect(expected.constraints.length).toBe(7);
    expect(after).toEqual(expected);
    await withClient(url, async (c) => {
      await expect(c.query(`INSERT INTO items (id, code, quantity, parent) VALUES (5, 'a', 9, 1)`)).rejects.toThrow(
        /items_sku_key/,
      );
      await expect(c.query(`INSERT INTO items (id, code, quantity, parent) VALUES (5, '', 9, 1)`)).rejects.toThrow(
        /items_sku_check/,
      );
      await expect(c.query(`INSERT INTO items (id, code, quantity, parent) VALUES (5, 'z', 9, 7)`)).rejects.toThrow(
        /items_parent_fk/,
      );
    });
  });

  it('rollback drops every copy and leaves the originals as they were', async () => {
    const url = await freshDatabase('carry');
    await withClient(url, (c) =>
      c.query(`${schema('sku', 'parent_id', 'qty', 'int')} INSERT INTO items VALUES (1, 'a', 1, 1)`),
    );
    const spec = parseSpec(`name: carry-rollback
table: items
operations:
  - rename_column: { from: sku, to: code }
`);
    const before = await withClient(url, objects);
    await expand(spec, opts(url));
    await withClient(url, async (c) =>
      expect((await objects(c)).indexes.some((x) => x.includes('_tandem_c_'))).toBe(true),
    );
    await rollback(spec, opts(url));
    expect(await withClient(url, objects)).toEqual(before);
  });

  it('an index that also reads a column the spec drops is not carried: contract refuses, naming it', async () => {
    const url = await freshDatabase('carry');
    await withClient(url, (c) =>
      c.query(
        `CREATE TABLE t (id int PRIMARY KEY, a text, b text); CREATE INDEX t_a_b_idx ON t (a, b); INSERT INTO t VALUES (1, 'x', 'y')`,
      ),
    );
    const spec = parseSpec(`name: carry-refused
table: t
operations:
  - rename_column: { from: a, to: a2 }
  - drop_column: { column: b, down: "'y'" }
`);
    await expand(spec, opts(url));
    await backfill(spec, opts(url));
    await expect(contract(spec, opts(url))).rejects.toThrow(
      /t_a_b_idx is not carried to the new column: it also reads b, which the spec drops without a replacement/,
    );
  });
});

describe('what cannot be carried is refused before expand, with the reason', () => {
  it('a check whose expression does not work on the new type (change_type): validate/expand refuse, naming it, and change nothing', async () => {
    const url = await freshDatabase('carry');
    await withClient(url, (c) =>
      c.query(
        `CREATE TABLE t (id int PRIMARY KEY, code text CONSTRAINT t_code_len CHECK (length(code) = 3)); INSERT INTO t VALUES (1, '123')`,
      ),
    );
    const spec = parseSpec(`name: carry-type
table: t
operations:
  - change_type: { column: code, into: code_int, type: int, up: "code::int", down: "lpad(code_int::text, 3, '0')" }
`);
    await expect(expand(spec, opts(url))).rejects.toThrow(/t_code_len carried to code_int.*length\(integer\)/s);
    await withClient(url, async (c) => {
      expect(
        (
          await c.query(
            `SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 ORDER BY attnum`,
          )
        ).rows.map((r) => r.attname),
      ).toEqual(['id', 'code']);
    });
  });
});

describe('foreign keys of other tables into the replaced column', () => {
  it('rename_column of a referenced column: the other table keeps its foreign key, under its name, onto the new column', async () => {
    const url = await freshDatabase('carry');
    const reference = await freshDatabase('carryref');
    const ddl = (code: string) => `
      CREATE TABLE countries (id int PRIMARY KEY, ${code} text CONSTRAINT countries_code_key UNIQUE);
      CREATE TABLE cities (id int PRIMARY KEY, country text CONSTRAINT cities_country_fk REFERENCES countries (${code}) ON UPDATE CASCADE);
      COMMENT ON CONSTRAINT cities_country_fk ON cities IS 'where it is';`;
    await withClient(url, (c) =>
      c.query(`${ddl('code')} INSERT INTO countries VALUES (1, 'fr'), (2, 'de'); INSERT INTO cities VALUES (1, 'fr')`),
    );
    await withClient(reference, (c) => c.query(ddl('iso')));
    const spec = parseSpec(`name: country-iso
table: countries
operations:
  - rename_column: { from: code, to: iso }
`);
    await expand(spec, opts(url));
    await withClient(url, async (c) => {
      // While the old versions run, the original still guards the old column.
      await expect(c.query(`INSERT INTO cities VALUES (2, 'xx')`)).rejects.toThrow(/cities_country_fk/);
      await c.query(`INSERT INTO cities VALUES (2, 'de')`);
    });
    await backfill(spec, opts(url));
    expect((await contract(spec, opts(url))).step).toBe('contracted');
    expect(await withClient(url, objects)).toEqual(await withClient(reference, objects));
    await withClient(url, async (c) => {
      await expect(c.query(`INSERT INTO cities VALUES (3, 'xx')`)).rejects.toThrow(/cities_country_fk/);
      await c.query(`UPDATE countries SET iso = 'fra' WHERE id = 1`);
      expect((await c.query(`SELECT country FROM cities WHERE id = 1`)).rows[0].country).toBe('fra');
    });
  });
});
