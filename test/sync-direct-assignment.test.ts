import { backfill, expand, planStepSql, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, sql, withClient } from './db';
import { createCustomers, splitSpec } from './fixtures';

/**
 * The sync trigger assigns an `up`/`down` as a PL/pgSQL expression over NEW where PostgreSQL's
 * own print of it allows (executor/row-assignments.ts), and keeps `SELECT ... INTO` where it does
 * not; either way an app write syncs as the backfill would.
 */
const opts = (url: string) => ({ databaseUrl: url, lockTimeoutMs: 2000 });
const spec = (yaml: string) => parseSpec(yaml, 'test spec');

async function body(url: string, fn: string): Promise<string> {
  return (await sql(url, `SELECT prosrc FROM pg_proc WHERE proname = $1`, [fn]))[0].prosrc;
}

describe('up and down assigned over NEW', () => {
  it('split_column: both sides are assignments over NEW, and v1 and v3 writes sync as the backfill does', async () => {
    const url = await freshDatabase('direct');
    await createCustomers(url, 10);
    await expand(splitSpec(), opts(url));
    const src = await body(url, 'sync_split_full_name');
    expect(src).toContain(`NEW."first_name" := split_part(NEW."full_name", ' '::text, 1);`);
    expect(src).toContain(`NEW."full_name" := concat_ws(' '::text, NEW."first_name", NEW."last_name");`);
    expect(src).not.toContain('FROM (SELECT NEW.*)');
    await sql(
      url,
      `INSERT INTO customers (full_name) VALUES ('Ada King Lovelace'), ('Plato');
       UPDATE customers SET full_name = 'Grace Brewster Hopper' WHERE id = 1;
       UPDATE customers SET first_name = 'Alan', last_name = 'Turing' WHERE id = 2;
       INSERT INTO customers (first_name, last_name) VALUES ('Edsger', NULL)`,
    );
    await backfill(splitSpec(), opts(url));
    expect((await verify(splitSpec(), opts(url))).ok).toBe(true);
    expect(
      await sql(
        url,
        `SELECT full_name, first_name, last_name FROM customers WHERE id IN (1, 2) OR full_name IN ('Ada King Lovelace', 'Plato', 'Edsger') ORDER BY id`,
      ),
    ).toEqual([
      { full_name: 'Grace Brewster Hopper', first_name: 'Grace', last_name: 'Brewster Hopper' },
      { full_name: 'Alan Turing', first_name: 'Alan', last_name: 'Turing' },
      { full_name: 'Ada King Lovelace', first_name: 'Ada', last_name: 'King Lovelace' },
      { full_name: 'Plato', first_name: 'Plato', last_name: null },
      { full_name: 'Edsger', first_name: 'Edsger', last_name: null },
    ]);
  });

  it('columns whose names need quoting, a keyword and one named like a PL/pgSQL variable, are assigned by their quoted names', async () => {
    const url = await freshDatabase('directnames');
    await sql(
      url,
      `CREATE TABLE order_lines (id serial PRIMARY KEY, "Unit Price" integer NOT NULL, "order" integer NOT NULL, found text);
       INSERT INTO order_lines ("Unit Price", "order", found) VALUES (250, 3, 'x'), (99, 1, 'y')`,
    );
    const s = spec(`
name: line-total
table: order_lines
operations:
  - add_column:
      name: total
      type: integer
      up: '"Unit Price" * "order" + length(found)'
`);
    await expand(s, opts(url));
    expect(await body(url, 'sync_line_total')).toContain(
      `NEW."total" := ((NEW."Unit Price" * NEW."order") + length(NEW."found"));`,
    );
    await sql(
      url,
      `INSERT INTO order_lines ("Unit Price", "order", found) VALUES (10, 5, 'abc'); UPDATE order_lines SET "order" = 4 WHERE id = 1`,
    );
    await backfill(s, opts(url));
    expect(await sql(url, `SELECT id, total FROM order_lines ORDER BY id`)).toEqual([
      { id: 1, total: 1001 },
      { id: 2, total: 100 },
      { id: 3, total: 53 },
    ]);
    expect((await verify(s, opts(url))).ok).toBe(true);
  });

  it('keeps SELECT ... INTO where an assignment could differ: a value of another type than the column', async () => {
    const url = await freshDatabase('directkeep');
    await sql(
      url,
      `CREATE TABLE items (id serial PRIMARY KEY, code text NOT NULL); INSERT INTO items (code) VALUES ('7')`,
    );
    const s = spec(`
name: item-numbers
table: items
operations:
  - add_column:
      name: num
      type: bigint
      up: "length(code)"
  - add_column:
      name: label
      type: text
      up: "code || '-' || length(code)"
`);
    await expand(s, opts(url));
    const src = await body(url, 'sync_item_numbers');
    // length() is an integer and the column a bigint: the SELECT's assignment, as the backfill's UPDATE does.
    expect(src).toContain('SELECT (length(code)) FROM (SELECT NEW.*)');
    expect(src).toContain(`NEW."label" := ((NEW."code" || '-'::text) || length(NEW."code"));`);
    await withClient(url, async (c) => {
      await c.query(`INSERT INTO items (code) VALUES ('abc')`);
      await c.query(`UPDATE items SET code = '12345' WHERE id = 1`);
    });
    await backfill(s, opts(url));
    expect(await sql(url, `SELECT id, num::int AS num, label FROM items ORDER BY id`)).toEqual([
      { id: 1, num: 5, label: '12345-5' },
      { id: 2, num: 3, label: 'abc-3' },
    ]);
  });

  it('`tandem sql --step expand` prints what expand runs: the unpinned function and the assignments', async () => {
    const url = await freshDatabase('directscript');
    await createCustomers(url, 3);
    const script = await planStepSql(splitSpec(), 'expand', opts(url));
    await expand(splitSpec(), opts(url));
    const src = await body(url, 'sync_split_full_name');
    expect(script).toContain(src.trim());
    expect(script).toContain('pg_catalog.current_schemas(true) OPERATOR(pg_catalog.=) ARRAY[');
    expect(src).toContain(`NEW."first_name" := split_part(NEW."full_name", ' '::text, 1);`);
  });

  it('a string constant that spells a placeholder with escapes stays a constant', async () => {
    const url = await freshDatabase('directconst');
    await createCustomers(url, 2);
    const s = spec(`
name: const-name
table: customers
operations:
  - add_column:
      name: tagged
      type: text
      up: 'split_part(full_name, '' '', 1) || E''|tandem\\x5fcol_2'' || U&''|tandem\\005fcol_3'''
`);
    await expand(s, opts(url));
    // Assigned over NEW, the constants printed with the placeholder's spelling in them.
    expect(await body(url, 'sync_const_name')).toContain(`NEW."tagged" := ((split_part(NEW."full_name"`);
    await sql(url, `UPDATE customers SET full_name = 'Grace Hopper' WHERE id = 1`);
    await backfill(s, opts(url));
    expect(await sql(url, `SELECT tagged FROM customers ORDER BY id`)).toEqual([
      { tagged: 'Grace|tandem_col_2|tandem_col_3' },
      { tagged: 'First2|tandem_col_2|tandem_col_3' },
    ]);
  });
});
