import { backfill, contract, expand, rollback, verify } from '../executor';
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

async function proconfig(url: string, fn: string): Promise<string[] | null> {
  return (await sql(url, `SELECT proconfig FROM pg_proc WHERE proname = $1`, [fn]))[0].proconfig;
}

/** The sync function has no SET clause: it checks the session and sets the pins only where the session differs. */
async function expectUnpinned(url: string, fn: string): Promise<void> {
  expect(await proconfig(url, fn)).toBeNull();
  const [{ src }] = await sql(url, `SELECT prosrc AS src FROM pg_proc WHERE proname = $1`, [fn]);
  expect(src).toContain('pg_catalog.current_schemas(true) OPERATOR(pg_catalog.=) ARRAY[');
  expect(src).toContain(`PERFORM pg_catalog.set_config('search_path', 'public, pg_temp', true);`);
}

describe('a sync function whose expressions cannot depend on a setting pins only search_path', () => {
  it('split_column over text: only search_path pinned, and app writes under odd settings sync as the backfill would', async () => {
    const url = await freshDatabase('pinfree');
    await createCustomers(url, 20);
    await expand(splitSpec(), opts(url));
    await expectUnpinned(url, 'sync_split_full_name');
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
    await expectUnpinned(url, 'sync_house_number');
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

describe('the sync function without a SET clause', () => {
  /** A role with DML on the table and USAGE on its schema only, as Tandem's access plan makes the app's. */
  async function appRole(url: string, name: string): Promise<string> {
    await sql(
      url,
      `DROP ROLE IF EXISTS ${name}; CREATE ROLE ${name} LOGIN; GRANT USAGE ON SCHEMA public TO ${name};
       GRANT SELECT, INSERT, UPDATE, DELETE ON customers TO ${name}`,
    );
    const u = new URL(url);
    u.username = name;
    return u.toString();
  }

  it("runs its body as it is only where the session resolves and parses as expand did; elsewhere it sets the pins for the call and sets back the session's; nothing on the app's path can answer its check", async () => {
    const url = await freshDatabase('unpinned');
    await createCustomers(url, 10);
    await expand(splitSpec(), opts(url));
    await expectUnpinned(url, 'sync_split_full_name');
    // A schema whose split_part, concat_ws, current_schemas and current_setting would win on a
    // search_path that names it before pg_catalog.
    await sql(
      url,
      `CREATE SCHEMA shadow;
       CREATE FUNCTION shadow.split_part(text, text, integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'SHADOW' $$;
       CREATE FUNCTION shadow.concat_ws(text, VARIADIC text[]) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'SHADOW' $$;
       CREATE FUNCTION shadow.current_schemas(boolean) RETURNS name[] LANGUAGE sql STABLE AS $$ SELECT '{pg_catalog,public}'::name[] $$;
       CREATE FUNCTION shadow.current_setting(text, boolean) RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'on' $$;
       GRANT USAGE ON SCHEMA shadow TO PUBLIC`,
    );
    // The app's role has no USAGE on the tandem schema: the function needs none.
    const app = await appRole(url, 'unpinned_app');
    await withClient(app, async (c) => {
      await c.query('SET search_path = shadow, pg_catalog, public');
      expect((await c.query(`SELECT split_part('a b', ' ', 1) AS v`)).rows[0].v).toBe('SHADOW');
      await c.query(`INSERT INTO customers (full_name) VALUES ('Barbara Liskov')`);
      await c.query(`UPDATE customers SET full_name = 'Grace Hopper' WHERE id = 1`);
      await c.query(`UPDATE customers SET first_name = 'Edsger', last_name = 'Dijkstra' WHERE id = 2`);
      // A row not yet backfilled, a column of neither side: the pending trigger fills it.
      await c.query(`UPDATE customers SET email = 'e5@example.com' WHERE id = 5`);
      // The session's own settings are back after each write.
      expect((await c.query(`SELECT current_setting('search_path') AS p`)).rows[0].p).toBe(
        'shadow, pg_catalog, public',
      );
    });
    await withClient(app, async (c) => {
      // The session's own temporary schema changes how names resolve too.
      await c.query('CREATE TEMP TABLE scratch (x int)');
      await c.query(`UPDATE customers SET full_name = 'Alan Turing' WHERE id = 3`);
    });
    // A session like expand's: the body runs as it is.
    await sql(app, `UPDATE customers SET full_name = 'Ada Lovelace' WHERE id = 4`);
    expect(
      await sql(
        url,
        `SELECT full_name, first_name, last_name FROM customers WHERE id <= 5 OR full_name = 'Barbara Liskov' ORDER BY id`,
      ),
    ).toEqual([
      { full_name: 'Grace Hopper', first_name: 'Grace', last_name: 'Hopper' },
      { full_name: 'Edsger Dijkstra', first_name: 'Edsger', last_name: 'Dijkstra' },
      { full_name: 'Alan Turing', first_name: 'Alan', last_name: 'Turing' },
      { full_name: 'Ada Lovelace', first_name: 'Ada', last_name: 'Lovelace' },
      { full_name: 'First5 Last5', first_name: 'First5', last_name: 'Last5' },
      { full_name: 'Barbara Liskov', first_name: 'Barbara', last_name: 'Liskov' },
    ]);
    await backfill(splitSpec(), opts(url));
    expect((await verify(splitSpec(), opts(url))).ok).toBe(true);
  });

  it('a temporary table named like a type the function declares does not become that type: the first write of the session syncs', async () => {
    const url = await freshDatabase('unpinnedtypes');
    await createCustomers(url, 3);
    await expand(splitSpec(), opts(url));
    const app = await appRole(url, 'unpinned_types_app');
    await withClient(app, async (c) => {
      await c.query('CREATE TEMP TABLE text (a int); CREATE TEMP TABLE int4 (a int)');
      await c.query(`INSERT INTO customers (full_name) VALUES ('Grace Hopper')`);
      await c.query(`UPDATE customers SET full_name = 'Alan Turing' WHERE id = 1`);
    });
    expect(
      await sql(
        url,
        `SELECT first_name, last_name FROM customers WHERE full_name IN ('Grace Hopper', 'Alan Turing') ORDER BY id`,
      ),
    ).toEqual([
      { first_name: 'Alan', last_name: 'Turing' },
      { first_name: 'Grace', last_name: 'Hopper' },
    ]);
  });

  it('array_nulls and transform_null_equals of the app session change neither an array constant nor `= NULL`', async () => {
    const url = await freshDatabase('unpinnedparse');
    await createCustomers(url, 2);
    const s = spec(`
name: tag-flags
table: customers
operations:
  - add_column:
      name: tags
      type: "text[]"
      up: "CASE WHEN email IS NULL THEN '{none,NULL}'::text[] ELSE ('{' || email || ',NULL}')::text[] END"
  - add_column:
      name: flag
      type: "varchar(10)"
      up: "CASE WHEN email = NULL THEN 'eqnull' ELSE 'other' END"
`);
    await expand(s, opts(url));
    await withClient(url, async (c) => {
      await c.query('SET array_nulls = off; SET transform_null_equals = on');
      await c.query(`INSERT INTO customers (full_name, email) VALUES ('No Mail', NULL), ('Mail', 'm@example.com')`);
      expect((await c.query(`SELECT current_setting('array_nulls') AS a`)).rows[0].a).toBe('off');
    });
    await backfill(s, opts(url));
    const rows = await sql(
      url,
      `SELECT full_name, tags[2] IS NULL AS null_tag, flag FROM customers WHERE full_name IN ('No Mail', 'Mail') ORDER BY id`,
    );
    expect(rows).toEqual([
      { full_name: 'No Mail', null_tag: true, flag: 'other' },
      { full_name: 'Mail', null_tag: true, flag: 'other' },
    ]);
    expect((await verify(s, opts(url))).ok).toBe(true);
  });

  it('contract and rollback drop the function', async () => {
    const fns = (url: string) =>
      sql(
        url,
        `SELECT proname FROM pg_proc WHERE pronamespace = 'tandem'::regnamespace AND proname LIKE '%sync%' ORDER BY 1`,
      );
    const url = await freshDatabase('unpinnedgone');
    await createCustomers(url, 5);
    await expand(splitSpec(), opts(url));
    expect(await fns(url)).toEqual([{ proname: 'sync_split_full_name' }]);
    await rollback(splitSpec(), opts(url));
    expect(await fns(url)).toEqual([]);
    await expand(splitSpec(), opts(url));
    await backfill(splitSpec(), opts(url));
    await contract(splitSpec(), opts(url));
    expect(await fns(url)).toEqual([]);
  });
});
