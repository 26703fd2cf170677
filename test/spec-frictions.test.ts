import { backfill, contract, expand, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, withClient } from './db';

/** Small frictions of writing specs (issue 20, item 5), each on a real PostgreSQL. */
const opts = (url: string, messages: string[] = []) => ({
  databaseUrl: url,
  lockTimeoutMs: 2000,
  onProgress: (e: { message: string }) => messages.push(e.message),
});
const ITEMS = `CREATE TABLE items (id int PRIMARY KEY, sku text, price int DEFAULT 0); INSERT INTO items VALUES (1, 'a', 10), (2, 'b', 20);`;
const walk = async (spec: ReturnType<typeof parseSpec>, url: string, messages: string[] = []) => {
  await expand(spec, opts(url, messages));
  await backfill(spec, opts(url));
  expect((await verify(spec, opts(url))).ok).toBe(true);
  expect((await contract(spec, opts(url))).step).toBe('contracted');
};
const columnDefault = async (url: string, column: string) =>
  withClient(
    url,
    async (c) =>
      (
        await c.query(
          `SELECT pg_get_expr(d.adbin, d.adrelid) AS d FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE a.attrelid = 'items'::regclass AND a.attname = $1`,
          [column],
        )
      ).rows[0]?.d,
  );

describe('spec frictions', () => {
  it('raw_sql with only `contract` (no placeholder up/down) runs at contract', async () => {
    const url = await freshDatabase('friction');
    await withClient(url, (c) => c.query(ITEMS));
    const spec = parseSpec(`name: comment-at-contract
table: items
operations:
  - raw_sql: { contract: "COMMENT ON TABLE items IS 'catalogue'" }
`);
    await expand(spec, opts(url));
    expect(
      await withClient(
        url,
        async (c) => (await c.query(`SELECT obj_description('items'::regclass, 'pg_class') AS d`)).rows[0].d,
      ),
    ).toBeNull();
    await backfill(spec, opts(url));
    await contract(spec, opts(url));
    expect(
      await withClient(
        url,
        async (c) => (await c.query(`SELECT obj_description('items'::regclass, 'pg_class') AS d`)).rows[0].d,
      ),
    ).toBe('catalogue');
  });

  it('raw_sql still needs `down` for an `up`, and some step', () => {
    expect(() => parseSpec(`name: x\ntable: items\noperations:\n  - raw_sql: { up: "SELECT 1" }\n`)).toThrow(
      /down.*is missing/,
    );
    expect(() => parseSpec(`name: x\ntable: items\noperations:\n  - raw_sql: { down: "SELECT 1" }\n`)).toThrow(
      /needs `up`/,
    );
  });

  it('set_default may name a column its own spec adds (change_type new column)', async () => {
    const url = await freshDatabase('friction');
    await withClient(url, (c) => c.query(ITEMS));
    const spec = parseSpec(`name: price-bigint-default
table: items
operations:
  - change_type: { column: price, into: price_cents, type: bigint, up: "price::bigint * 100", down: "(price_cents / 100)::int" }
  - set_default: { column: price_cents, default: 500 }
`);
    await walk(spec, url);
    expect(await columnDefault(url, 'price_cents')).toBe('500');
  });

  it('change_type takes a `default` for the new column', async () => {
    const url = await freshDatabase('friction');
    await withClient(url, (c) => c.query(ITEMS));
    const spec = parseSpec(`name: price-with-default
table: items
operations:
  - change_type: { column: price, into: price_big, type: bigint, up: "price::bigint", down: "price_big::int", default: 7 }
`);
    await walk(spec, url);
    expect(await columnDefault(url, 'price_big')).toBe('7');
    await withClient(url, async (c) => {
      await c.query(`INSERT INTO items (id, sku) VALUES (3, 'c')`);
      expect((await c.query(`SELECT price_big FROM items WHERE id = 3`)).rows[0].price_big).toBe('7');
    });
  });

  it('expand predicts no refusal for an index the same spec drops', async () => {
    const url = await freshDatabase('friction');
    await withClient(url, (c) => c.query(`${ITEMS} CREATE INDEX items_sku_idx ON items (sku, price)`));
    const spec = parseSpec(`name: drop-sku
table: items
operations:
  - drop_index: { name: items_sku_idx }
  - drop_column: { column: sku, down: "'x'" }
`);
    const messages: string[] = [];
    await walk(spec, url, messages);
    expect(messages.filter((m) => /contract will refuse/.test(m))).toEqual([]);
  });
});
