import { backfill, contract, expand, validateLive, verify } from '../executor';
import { TableRewriteError } from '../executor/errors';
import { SpecError } from '../phases/errors';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, sql } from './db';
import { runCli } from './cli-run';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * ADD COLUMN must stay catalog-only under ACCESS EXCLUSIVE: no table rewrite, no scan. Proven by
 * the table's relfilenode (a rewrite gives the table a new file) on a table with rows.
 */

const addSpec = (type: string, extra = '') =>
  parseSpec(`name: add-col\ntable: items\noperations:\n  - add_column: { name: extra, type: "${type}"${extra} }\n`);

async function itemsTable(url: string): Promise<void> {
  await sql(
    url,
    `CREATE TABLE items (id int PRIMARY KEY, label text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g;`,
  );
}

/** Rows written since the table was loaded (in one transaction): a backfill UPDATE gives each row it touches a new xmin. */
const rewrittenRows = async (url: string, loadedXmin: string) =>
  (await sql(url, `SELECT count(*)::int AS n FROM items WHERE xmin::text <> $1`, [loadedXmin]))[0].n;
const loadXmin = async (url: string) => (await sql(url, `SELECT min(xmin::text) AS x FROM items`))[0].x as string;

const filenode = async (url: string) => (await sql(url, `SELECT pg_relation_filenode('items') AS f`))[0].f;

describe('types that would make ADD COLUMN rewrite the table', () => {
  let url: string;
  beforeEach(async () => {
    url = await freshDatabase('rewrite');
    await itemsTable(url);
    await sql(
      url,
      `CREATE DOMAIN positive AS int CHECK (VALUE > 0);
       CREATE DOMAIN small_positive AS positive CHECK (VALUE < 100);
       CREATE DOMAIN over_positive AS positive;
       CREATE DOMAIN required_text AS text NOT NULL;
       CREATE DOMAIN random_default AS int DEFAULT (random() * 10)::int;
       CREATE DOMAIN plain_label AS text;`,
    );
  });

  it.each([
    ['a domain with a CHECK', 'positive', /domain positive has CHECK constraint positive_check/],
    ['a domain over a domain with a CHECK', 'over_positive', /domain positive has CHECK constraint positive_check/],
    [
      "a domain with its own and its base domain's CHECK",
      'small_positive',
      /domain small_positive has CHECK constraint small_positive_check; domain positive has CHECK/,
    ],
    ['a NOT NULL domain', 'required_text', /domain required_text is NOT NULL/],
    ['a domain with a volatile default', 'random_default', /domain random_default has a default/],
  ])(
    '%s: validate and expand refuse before any lock, naming the base type to use; the table keeps its file',
    async (_what, type, why) => {
      const before = await filenode(url);
      await expect(validateLive(addSpec(type), { databaseUrl: url })).rejects.toThrow(TableRewriteError);
      const err = await expand(addSpec(type), { databaseUrl: url }).catch((e) => e);
      expect(err).toBeInstanceOf(TableRewriteError);
      expect(err.message).toMatch(why);
      expect(err.message).toMatch(
        /would make ADD COLUMN rewrite public\.items under ACCESS EXCLUSIVE.*declare it as the base type integer|text/,
      );
      expect(await filenode(url)).toBe(before);
      expect(
        await sql(
          url,
          `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'extra'`,
        ),
      ).toEqual([{ n: 0 }]);
    },
  );

  it.each([
    ['a domain without constraints', 'plain_label'],
    ['an array of a domain with a CHECK', 'positive[]'],
    ['a plain type with a typmod', 'varchar(20)'],
  ])('%s is catalog-only: expand keeps the table file', async (_what, type) => {
    const before = await filenode(url);
    await expand(addSpec(type), { databaseUrl: url });
    expect(await filenode(url)).toBe(before);
  });

  it.each([
    ['text unique', /is not exactly one type name/],
    ['integer generated always as identity', /is not exactly one type name/],
    ['serial', /is not exactly one type name/],
  ])('"%s" is not a type: refused as bad input before anything runs', async (type, why) => {
    const err = await validateLive(addSpec(type), { databaseUrl: url }).catch((e) => e);
    expect(err).toBeInstanceOf(SpecError);
    expect(err.message).toMatch(why);
  });
});

describe('add_column with a constant default and no up', () => {
  it('is a fast default: catalog-only at expand, every row has the value at once, and the backfill writes no row', async () => {
    const url = await freshDatabase('fastdefault');
    await itemsTable(url);
    const spec = addSpec('text', `, default: "'new'", not_null: true`);
    const before = await filenode(url);
    const xmin = await loadXmin(url);
    await expand(spec, { databaseUrl: url });
    expect(await filenode(url)).toBe(before);
    expect(await sql(url, `SELECT count(*)::int AS n FROM items WHERE extra = 'new'`)).toEqual([{ n: 2000 }]);
    const r = await backfill(spec, { databaseUrl: url });
    expect(r).toMatchObject({ step: 'backfilled', rowsUpdated: 0, batches: 0, complete: true });
    // No row was written: every row still carries the xmin it had before expand.
    expect(await rewrittenRows(url, xmin)).toBe(0);
    await sql(url, `INSERT INTO items (id, label) VALUES (5000, 'v1 insert')`);
    expect(await verify(spec, { databaseUrl: url })).toMatchObject({ ok: true, rows: 2001, pendingRows: 0 });
    await contract(spec, { databaseUrl: url });
    expect(
      await sql(url, `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'extra'`),
    ).toEqual([{ attnotnull: true }]);
  });

  it('a default that is not a constant (now()) still goes through the backfill', async () => {
    const url = await freshDatabase('slowdefault');
    await itemsTable(url);
    const spec = addSpec('timestamptz', `, default: "now()"`);
    await expand(spec, { databaseUrl: url });
    expect(await sql(url, `SELECT count(*)::int AS n FROM items WHERE extra IS NULL`)).toEqual([{ n: 2000 }]);
    expect(await backfill(spec, { databaseUrl: url })).toMatchObject({ rowsUpdated: 2000 });
  });
});

describe('drop_column', () => {
  it('adds no column, so the backfill is a no-op that records completion and writes no row', async () => {
    const url = await freshDatabase('dropcol');
    await itemsTable(url);
    const spec = parseSpec(
      `name: drop-label\ntable: items\noperations:\n  - drop_column: { column: label, down: "'none'" }\n`,
    );
    await expand(spec, { databaseUrl: url });
    const xmin = await loadXmin(url);
    expect(await backfill(spec, { databaseUrl: url })).toMatchObject({
      step: 'backfilled',
      rowsUpdated: 0,
      batches: 0,
    });
    expect(await rewrittenRows(url, xmin)).toBe(0);
    expect(await sql(url, `SELECT step FROM tandem.migrations`)).toEqual([{ step: 'backfilled' }]);
    expect(await verify(spec, { databaseUrl: url })).toMatchObject({ ok: true, pendingRows: 0 });
  });
});

describe('the CLI', () => {
  it('reports a rewriting type as a refusal (exit 1) with kind table_rewrite in --json', async () => {
    const url = await freshDatabase('rewritecli');
    await itemsTable(url);
    await sql(url, `CREATE DOMAIN positive AS int CHECK (VALUE > 0)`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-rewrite-'));
    const file = path.join(dir, 'spec.yaml');
    fs.writeFileSync(
      file,
      `name: add-col\ntable: items\noperations:\n  - add_column: { name: extra, type: positive }\n`,
    );
    const r = await runCli(['expand', file, '--json'], { DATABASE_URL: url });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      exit_code: 1,
      error: { kind: 'table_rewrite', column: 'extra', type: 'positive' },
    });
  });
});
