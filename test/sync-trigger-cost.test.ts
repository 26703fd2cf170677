import { backfill, expand, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, sql, withClient } from './db';
import { createCustomers, splitSpec } from './fixtures';

/**
 * What makes the sync trigger cheaper (docs/performance.md) keeps its guarantees: a function that
 * pins only search_path still evaluates as the backfill does under any app session's settings, an
 * expression whose value can depend on a setting keeps every pin, an up that raises still never
 * fails the write, and the backfill's and repair's writes still pass the INSERT and old-side
 * triggers untouched now that those triggers test `tandem.backfill` inside the function.
 */
const opts = (url: string) => ({ databaseUrl: url, lockTimeoutMs: 2000 });
const spec = (yaml: string) => parseSpec(yaml, 'test spec');
const ODD_SETTINGS = `SET TimeZone = 'Asia/Tokyo'; SET DateStyle = 'German'; SET IntervalStyle = 'sql_standard'; SET extra_float_digits = -15; SET bytea_output = 'escape'`;

async function proconfig(url: string, fn: string): Promise<string[]> {
  return (await sql(url, `SELECT proconfig FROM pg_proc WHERE proname = $1`, [fn]))[0].proconfig;
}

describe('a sync function whose expressions cannot depend on a setting pins only search_path', () => {
  it('split_column over text: only search_path pinned, and app writes under odd settings sync as the backfill would', async () => {
    const url = await freshDatabase('pinfree');
    await createCustomers(url, 20);
    await expand(splitSpec(), opts(url));
    expect((await proconfig(url, 'sync_split_full_name')).map((c) => c.split('=')[0])).toEqual(['search_path']);
    await withClient(url, async (c) => {
      await c.query(ODD_SETTINGS);
      await c.query(`INSERT INTO customers (full_name) VALUES ('Ada King Lovelace')`);
      await c.query(`UPDATE customers SET full_name = 'Grace Hopper' WHERE id = 1`);
      await c.query(`INSERT INTO customers (first_name, last_name) VALUES ('Alan', 'Turing')`);
    });
    await backfill(splitSpec(), opts(url));
    expect((await verify(splitSpec(), opts(url))).ok).toBe(true);
    expect(
      await sql(
        url,
        `SELECT full_name, first_name, last_name FROM customers WHERE id = 1 OR full_name IN ('Ada King Lovelace', 'Alan Turing') ORDER BY id`,
      ),
    ).toEqual([
      { full_name: 'Grace Hopper', first_name: 'Grace', last_name: 'Hopper' },
      { full_name: 'Ada King Lovelace', first_name: 'Ada', last_name: 'King Lovelace' },
      { full_name: 'Alan Turing', first_name: 'Alan', last_name: 'Turing' },
    ]);
  });

  it('an up that can raise (text to integer) is still guarded there: the write goes through and the row is flagged', async () => {
    const url = await freshDatabase('pinfreeraise');
    await sql(
      url,
      `CREATE TABLE homes (id serial PRIMARY KEY, addr text NOT NULL); INSERT INTO homes (addr) VALUES ('12 High St')`,
    );
    const s = spec(`
name: house-number
table: homes
operations:
  - add_column:
      name: number
      type: integer
      up: "split_part(addr, ' ', 1)::integer"
`);
    await expand(s, opts(url));
    expect((await proconfig(url, 'sync_house_number')).map((c) => c.split('=')[0])).toEqual(['search_path']);
    await backfill(s, opts(url));
    await sql(
      url,
      `INSERT INTO homes (addr) VALUES ('Flat 3, Baker St'); UPDATE homes SET addr = 'Rose Cottage' WHERE id = 1`,
    );
    const rows = await sql(
      url,
      `SELECT addr, number, _tandem_pending AS pending, _tandem_sync_failed->'0'->>'sqlstate' AS sqlstate FROM homes ORDER BY id`,
    );
    expect(rows).toEqual([
      { addr: 'Rose Cottage', number: 12, pending: null, sqlstate: '22P02' },
      { addr: 'Flat 3, Baker St', number: null, pending: null, sqlstate: '22P02' },
    ]);
  });
});

describe('a built-in function over text that reads a setting itself keeps every pin', () => {
  // xml_is_well_formed(text) -> boolean reads xmloption; text @@ text reads nothing of the nine but is
  // stable like it. Only the types and the function's name were judged before: both passed.
  it('xml_is_well_formed(label) written by an app session with xmloption = document gives what the backfill gives', async () => {
    const url = await freshDatabase('pinxml');
    await sql(
      url,
      `CREATE TABLE notes (id serial PRIMARY KEY, label text NOT NULL); INSERT INTO notes (label) VALUES ('plain words')`,
    );
    const s = spec(`
name: well-formed
table: notes
operations:
  - add_column:
      name: well_formed
      type: boolean
      up: "xml_is_well_formed(label)"
`);
    await expand(s, opts(url));
    await withClient(url, async (c) => {
      await c.query(`SET xmloption = document`);
      await c.query(`INSERT INTO notes (label) VALUES ('more words')`);
      await c.query(`UPDATE notes SET label = 'other words' WHERE id = 1`);
    });
    await backfill(s, opts(url));
    expect(await sql(url, `SELECT label, well_formed FROM notes ORDER BY id`)).toEqual([
      { label: 'other words', well_formed: true },
      { label: 'more words', well_formed: true },
    ]);
    expect((await verify(s, opts(url))).ok).toBe(true);
  });
});

describe('standard_conforming_strings of the app session', () => {
  // PL/pgSQL parses the trigger's statements in the app's session on first use: with
  // standard_conforming_strings off, '\' would open an escape there (and '\\' mean one backslash).
  it('an up with a backslash in a literal: an app session with standard_conforming_strings off writes and syncs as the backfill does', async () => {
    const url = await freshDatabase('pinscs');
    await sql(
      url,
      `CREATE TABLE paths (id serial PRIMARY KEY, path text NOT NULL); INSERT INTO paths (path) VALUES ('C:\\dir\\file')`,
    );
    const s = spec(`
name: drive
table: paths
operations:
  - add_column:
      name: drive
      type: text
      up: "split_part(path, '\\\\', 1) || length('\\\\n')"
`);
    await expand(s, opts(url));
    await withClient(url, async (c) => {
      await c.query(`SET standard_conforming_strings = off`);
      await c.query(`SET escape_string_warning = off`);
      await c.query(`INSERT INTO paths (path) VALUES (E'D:\\\\x\\\\y')`);
      await c.query(`UPDATE paths SET path = E'E:\\\\z' WHERE id = 1`);
    });
    await backfill(s, opts(url));
    expect(await sql(url, `SELECT path, drive, _tandem_sync_failed AS failed FROM paths ORDER BY id`)).toEqual([
      { path: 'E:\\z', drive: 'E:2', failed: null },
      { path: 'D:\\x\\y', drive: 'D:2', failed: null },
    ]);
    expect((await verify(s, opts(url))).ok).toBe(true);
  });
});

describe('an expression whose value can depend on a setting keeps every pin', () => {
  const cases: [string, string, string][] = [
    ['a float', 'n float8', `(n * 3)::text`],
    ['a timestamp', 'at timestamptz', `at::text`],
    ['a date', 'label text', `label || '2024-01-02'::date::text`],
    ['to_char of a number (lc_numeric)', 'n numeric', `to_char(n, '9D99')`],
    ['a setting read directly', 'label text', `label || current_setting('TimeZone')`],
    ['a function of the database', 'label text', `tidy(label)`],
    ['a domain', 'label short_text', `label::text`],
    ['a whole row', 'label text', `things::text`],
    ['a subquery', 'label text', `(SELECT max(label) FROM things t2)`],
    [
      'a stable catalog function over an oid (pg_get_viewdef prints constants under DateStyle)',
      'label text',
      `label || pg_get_viewdef(1::oid)`,
    ],
    ['xml_is_well_formed (xmloption)', 'label text', `xml_is_well_formed(label)::text`],
  ];
  it.each(cases)('%s', async (_what, column, up) => {
    const url = await freshDatabase('pinned');
    await sql(
      url,
      `CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 100);
       CREATE FUNCTION tidy(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$;
       CREATE TABLE things (id int PRIMARY KEY, ${column})`,
    );
    await expand(
      spec(`
name: pinned
table: things
operations:
  - add_column:
      name: derived
      type: text
      up: ${JSON.stringify(up)}
`),
      opts(url),
    );
    expect(await proconfig(url, 'sync_pinned')).toEqual(
      expect.arrayContaining(['TimeZone=UTC', 'DateStyle=ISO,YMD', 'extra_float_digits=1', 'lc_numeric=C']),
    );
  });
});

describe('the backfill and repair write past the INSERT and old-side triggers, which test tandem.backfill inside the function', () => {
  it('those triggers have no WHEN; a write of the old side or an insert with tandem.backfill on is left as written', async () => {
    const url = await freshDatabase('bypass');
    await createCustomers(url, 3);
    await expand(splitSpec(), opts(url));
    // Before the backfill, which drops the pending trigger once no row is pending.
    const triggers = await sql(
      url,
      `SELECT tgname, tgqual IS NOT NULL AS has_when FROM pg_trigger WHERE tgrelid = 'customers'::regclass AND NOT tgisinternal ORDER BY tgname`,
    );
    expect(triggers).toEqual([
      { tgname: 'zz_tandem_sync_split_full_name', has_when: false },
      { tgname: 'zz_tandem_sync_split_full_name_00a', has_when: false },
      { tgname: 'zz_tandem_sync_split_full_name_00b', has_when: true },
      { tgname: 'zz_tandem_sync_split_full_name_zp', has_when: true },
    ]);
    await backfill(splitSpec(), opts(url));
    const before = (await sql(url, `SELECT first_name, last_name FROM customers WHERE id = 1`))[0];
    await sql(
      url,
      `BEGIN; SET LOCAL tandem.backfill = 'on'; UPDATE customers SET full_name = 'Someone Else' WHERE id = 1; INSERT INTO customers (full_name) VALUES ('Not Derived'); COMMIT`,
    );
    expect((await sql(url, `SELECT first_name, last_name FROM customers WHERE id = 1`))[0]).toEqual(before);
    expect(await sql(url, `SELECT first_name, last_name FROM customers WHERE full_name = 'Not Derived'`)).toEqual([
      { first_name: null, last_name: null },
    ]);
    // Without the setting, the same writes are synced.
    await sql(
      url,
      `UPDATE customers SET full_name = 'Someone Else' WHERE id = 2; INSERT INTO customers (full_name) VALUES ('Now Derived')`,
    );
    expect(
      await sql(
        url,
        `SELECT first_name, last_name FROM customers WHERE id = 2 OR full_name = 'Now Derived' ORDER BY id`,
      ),
    ).toEqual([
      { first_name: 'Someone', last_name: 'Else' },
      { first_name: 'Now', last_name: 'Derived' },
    ]);
  });
});
