import { Client } from 'pg';
import { backfill, contract, expand, planStepSql, repair, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, sql, withClient } from './db';

/**
 * For one write, the sync trigger (in the app's session), the backfill, verify and repair (in the
 * executor's) give the same value, whatever the app session's settings: `up`/`down` are evaluated
 * under one fixed, stated set of settings (TimeZone UTC, DateStyle ISO, ...) and the search_path
 * of the expand session, everywhere.
 */
const opts = (url: string) => ({ databaseUrl: url, lockTimeoutMs: 2000 });

/** An app session with settings of its own, as a driver or a role default would give it. */
async function appSession<T>(url: string, settings: string, fn: (c: Client) => Promise<T>): Promise<T> {
  return withClient(url, async (c) => {
    await c.query(settings);
    return fn(c);
  });
}

describe('change_type timestamp -> timestamptz on a database whose zone is not UTC', () => {
  it('the trigger in an app session of another zone syncs the instant the backfill gives; verify passes, repair has nothing to do, contract works', async () => {
    const url = await freshDatabase('tz');
    const db = new URL(url).pathname.slice(1);
    await sql(url, `ALTER DATABASE "${db}" SET TimeZone = 'America/New_York'`);
    await sql(url, `ALTER DATABASE "${db}" SET DateStyle = 'SQL, DMY'`);
    await sql(
      url,
      `CREATE TABLE events (id int PRIMARY KEY, at timestamp NOT NULL, note text); INSERT INTO events VALUES (1, '2024-01-15 10:00', 'a'), (2, '2024-07-01 23:30', 'b')`,
    );
    const spec = parseSpec(`
name: events-tz
table: events
operations:
  - change_type:
      column: at
      type: timestamptz
      up: at::timestamptz
      down: at_new::timestamp
  - add_column:
      name: label
      type: text
      up: "note || ' ' || at::timestamptz::text || ' ' || (at - '2024-01-01')::text || ' ' || (0.1::float8 * 3)::text"
`);
    await expand(spec, opts(url));
    const appSettings = `SET TimeZone = 'Asia/Tokyo'; SET DateStyle = 'German'; SET IntervalStyle = 'sql_standard'; SET extra_float_digits = 0`;
    await appSession(url, appSettings, async (app) => {
      // v1 writes the old column; v3 writes the new one alone (down derives the old).
      await app.query(`INSERT INTO events (id, at, note) VALUES (3, '2024-03-01 12:00', 'c')`);
      await app.query(`UPDATE events SET at = '2024-02-02 08:15' WHERE id = 1`);
      await app.query(`INSERT INTO events (id, at_new, note) VALUES (4, '2024-05-01 12:00+02', 'd')`);
    });
    await backfill(spec, opts(url));
    const report = await verify(spec, opts(url));
    expect(report.ok).toBe(true);
    expect(report.syncFailedRows ?? 0).toBe(0);
    // The same instant for every row, whoever synced it: the naive time read as UTC.
    const rows = await sql(
      url,
      `SELECT id, at_new = (at AT TIME ZONE 'UTC') AS same_instant, label,
              note || ' ' || to_char(at, 'YYYY-MM-DD HH24:MI:SS') || '+00 ' AS label_prefix
         FROM events ORDER BY id`,
    );
    expect(rows.map((r) => [r.id, r.same_instant])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, true],
    ]);
    for (const r of rows) expect(r.label.startsWith(r.label_prefix)).toBe(true);
    expect(new Set(rows.map((r) => r.label.split(' ').slice(-1)[0]))).toEqual(new Set(['0.30000000000000004']));
    expect((await sql(url, `SELECT to_char(at, 'YYYY-MM-DD HH24:MI') AS at FROM events WHERE id = 4`))[0].at).toBe(
      '2024-05-01 10:00',
    );
    expect((await repair(spec, opts(url))).stillFailing).toEqual([]);
    await contract(spec, opts(url));
    expect(
      await sql(
        url,
        `SELECT id, to_char(at_new AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS utc FROM events ORDER BY id`,
      ),
    ).toEqual([
      { id: 1, utc: '2024-02-02 08:15' },
      { id: 2, utc: '2024-07-01 23:30' },
      { id: 3, utc: '2024-03-01 12:00' },
      { id: 4, utc: '2024-05-01 10:00' },
    ]);
  });
});

describe('an unqualified function in up', () => {
  it("resolves under the expand session's search_path in the trigger, whatever the app session's search_path", async () => {
    const url = await freshDatabase('path');
    await sql(
      url,
      `CREATE TABLE names (id int PRIMARY KEY, full_name text NOT NULL);
       CREATE FUNCTION public.tidy(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$;
       CREATE SCHEMA shadow;
       CREATE FUNCTION shadow.tidy(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper($1) $$;
       GRANT USAGE ON SCHEMA shadow TO PUBLIC;
       INSERT INTO names VALUES (1, 'Ada')`,
    );
    const spec = parseSpec(`
name: tidy-names
table: names
operations:
  - add_column:
      name: tidy_name
      type: text
      up: tidy(full_name)
`);
    await expand(spec, opts(url));
    await appSession(url, `SET search_path = shadow, public`, async (app) => {
      await app.query(`INSERT INTO names VALUES (2, 'Bob')`);
    });
    await backfill(spec, opts(url));
    expect(await sql(url, `SELECT id, tidy_name FROM names ORDER BY id`)).toEqual([
      { id: 1, tidy_name: 'ada' },
      { id: 2, tidy_name: 'bob' },
    ]);
    expect((await verify(spec, opts(url))).ok).toBe(true);
  });
});

describe('the SQL tandem prints for a step', () => {
  it('sets the evaluation settings first, so the expand script run by hand in another session pins what the executor would', async () => {
    const url = await freshDatabase('script');
    await sql(
      url,
      `CREATE TABLE names (id int PRIMARY KEY, full_name text NOT NULL); CREATE SCHEMA shadow; CREATE SCHEMA tandem`,
    );
    const spec = parseSpec(`
name: script-pin
table: names
operations:
  - add_column:
      name: shout
      type: text
      up: "upper(full_name) || (0.1::float8 * 3)::text"
`);
    const script = await planStepSql(spec, 'expand', opts(url));
    expect(script.startsWith(`-- the settings up/down are evaluated under`)).toBe(true);
    expect(script).toContain(`SET TimeZone = 'UTC';`);
    await appSession(url, `SET TimeZone = 'Asia/Tokyo'; SET search_path = shadow, public`, (c) => c.query(script));
    const [fn] = await sql(url, `SELECT proconfig FROM pg_proc WHERE proname = 'sync_script_pin'`);
    expect(fn.proconfig).toEqual(
      expect.arrayContaining(['TimeZone=UTC', 'DateStyle=ISO,YMD', 'search_path=public, pg_temp']),
    );
  });
});
