import { backfill, expand, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, sql, withClient } from './db';
import { createCustomers, splitSpec } from './fixtures';

/**
 * Every way a write reaches the table, now that the INSERT and old-side triggers have no WHEN and
 * the function itself lets `tandem.backfill = 'on'` through (docs/performance.md): COPY,
 * multi-row statements, INSERT ... ON CONFLICT DO UPDATE, an app BEFORE trigger that rewrites the
 * old side, a partitioned table (writes through the parent, into a partition, moving a row between
 * partitions). Each is synced as the backfill would sync it. The two ways past the triggers (a
 * session that sets `tandem.backfill` itself, and `session_replication_role = replica`, under which
 * PostgreSQL fires no ordinary trigger) are as they were with the WHEN: the write lands as written
 * and verify names the row, never reports it consistent.
 */
const opts = (url: string) => ({ databaseUrl: url, lockTimeoutMs: 2000 });
const split = (rows: { full_name: string }[]) =>
  rows.map((r) => {
    const first = r.full_name.split(' ')[0];
    const rest = r.full_name.slice(first.length + 1);
    return { full_name: r.full_name, first_name: first, last_name: rest === '' ? null : rest };
  });

describe('every write path of an app session is synced as the backfill would sync it', () => {
  it('COPY, multi-row INSERT and UPDATE, INSERT ... ON CONFLICT DO UPDATE, and an app BEFORE trigger that rewrites full_name', async () => {
    const url = await freshDatabase('paths');
    await createCustomers(url, 4);
    await sql(
      url,
      `CREATE FUNCTION tidy_name() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.full_name := initcap(NEW.full_name); RETURN NEW; END $$;
       CREATE TRIGGER a_tidy BEFORE INSERT OR UPDATE OF full_name ON customers FOR EACH ROW EXECUTE FUNCTION tidy_name()`,
    );
    await expand(splitSpec(), opts(url));
    await backfill(splitSpec(), opts(url));
    await sql(
      url,
      `COPY customers (full_name, email) FROM PROGRAM 'printf "copied one\\tc1@x\\ncopied two parts\\tc2@x\\n"'`,
    );
    await sql(url, `INSERT INTO customers (full_name) VALUES ('multi one'), ('multi two'), ('multi')`);
    await sql(url, `UPDATE customers SET full_name = 'renamed ' || id WHERE id IN (1, 2)`);
    await sql(
      url,
      `INSERT INTO customers (id, full_name) OVERRIDING SYSTEM VALUE VALUES (3, 'upserted three'), (1000, 'upserted new')
       ON CONFLICT (id) DO UPDATE SET full_name = EXCLUDED.full_name`,
    );
    const rows: { full_name: string; first_name: string; last_name: string | null; pending: boolean }[] = await sql(
      url,
      `SELECT full_name, first_name, last_name, _tandem_pending AS pending FROM customers ORDER BY id`,
    );
    expect(rows.map((r) => r.full_name)).toEqual([
      'Renamed 1',
      'Renamed 2',
      'Upserted Three',
      'First4 Last4',
      'Copied One',
      'Copied Two Parts',
      'Multi One',
      'Multi Two',
      'Multi',
      'Upserted New',
    ]);
    expect(rows.map(({ pending: _p, ...r }) => r)).toEqual(split(rows));
    expect(rows.every((r) => r.pending === false)).toBe(true);
    expect((await verify(splitSpec(), opts(url))).ok).toBe(true);
  });

  it('a partitioned table: writes through the parent, into a partition, and moving a row between partitions', async () => {
    const url = await freshDatabase('pathspart');
    await sql(
      url,
      `CREATE TABLE people (id int NOT NULL, region text NOT NULL, full_name text NOT NULL, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
       CREATE TABLE people_eu PARTITION OF people FOR VALUES IN ('eu');
       CREATE TABLE people_us PARTITION OF people FOR VALUES IN ('us');
       INSERT INTO people VALUES (1, 'eu', 'Ada Lovelace'), (2, 'us', 'Grace Hopper'), (3, 'eu', 'Alan Turing')`,
    );
    const spec = parseSpec(
      `
name: split-people
table: people
operations:
  - split_column:
      column: full_name
      into:
        - name: first_name
          type: text
          up: "split_part(full_name, ' ', 1)"
        - name: last_name
          type: text
          up: "nullif(substr(full_name, length(split_part(full_name, ' ', 1)) + 2), '')"
      down: "concat_ws(' ', first_name, last_name)"
`,
      'test spec',
    );
    await expand(spec, opts(url));
    // Row 3 stays pending across a move to the other partition (its new side comes from the pending trigger there).
    await sql(
      url,
      `UPDATE people SET full_name = 'Edsger Dijkstra' WHERE id = 1; INSERT INTO people_us (id, region, full_name) VALUES (4, 'us', 'Barbara Liskov')`,
    );
    await sql(
      url,
      `UPDATE people SET region = 'us' WHERE id = 3; UPDATE people SET region = 'eu', full_name = 'Grace Brewster Hopper' WHERE id = 2`,
    );
    await backfill(spec, opts(url));
    const rows: { full_name: string; first_name: string; last_name: string | null; region: string }[] = await sql(
      url,
      `SELECT full_name, first_name, last_name, region FROM people ORDER BY id`,
    );
    expect(rows.map((r) => r.region)).toEqual(['eu', 'eu', 'us', 'us']);
    expect(rows.map(({ region: _r, ...r }) => r)).toEqual(split(rows));
    expect((await verify(spec, opts(url))).ok).toBe(true);
  });
});

describe('the ways past the sync trigger are the ones there were with the WHEN, and verify names their rows', () => {
  it('an app session that sets tandem.backfill, or session_replication_role = replica: the write lands as written and verify reports the row inconsistent', async () => {
    const url = await freshDatabase('pathsbypass');
    await createCustomers(url, 3);
    await expand(splitSpec(), opts(url));
    await backfill(splitSpec(), opts(url));
    await withClient(url, async (c) => {
      await c.query(`SET tandem.backfill = 'on'`);
      await c.query(`UPDATE customers SET full_name = 'Set Bypass' WHERE id = 1`);
      await c.query(`RESET tandem.backfill`);
      // Superuser only (PGC_SUSET): ordinary triggers do not fire, with a WHEN or without.
      await c.query(`SET session_replication_role = replica`);
      await c.query(`UPDATE customers SET full_name = 'Replica Bypass' WHERE id = 2`);
    });
    expect(await sql(url, `SELECT first_name, last_name FROM customers WHERE id IN (1, 2) ORDER BY id`)).toEqual([
      { first_name: 'First1', last_name: 'Last1' },
      { first_name: 'First2', last_name: 'Last2' },
    ]);
    const report = await verify(splitSpec(), opts(url));
    expect(report.ok).toBe(false);
    expect(report.operations[0].inconsistentRows).toBe(2);
  });

  it('an app BEFORE UPDATE trigger that changes full_name in an UPDATE not naming it: UPDATE OF goes by the SET list, so verify names the row', async () => {
    const url = await freshDatabase('pathsbefore');
    await createCustomers(url, 3);
    await expand(splitSpec(), opts(url));
    await backfill(splitSpec(), opts(url));
    await sql(
      url,
      `CREATE FUNCTION stamp_name() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.full_name := upper(NEW.full_name); RETURN NEW; END $$;
       CREATE TRIGGER a_stamp BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION stamp_name();
       UPDATE customers SET email = 'new@example.com' WHERE id = 1`,
    );
    expect(await sql(url, `SELECT full_name, first_name FROM customers WHERE id = 1`)).toEqual([
      { full_name: 'FIRST1 LAST1', first_name: 'First1' },
    ]);
    const report = await verify(splitSpec(), opts(url));
    expect(report.ok).toBe(false);
    expect(report.operations[0].inconsistentRows).toBe(1);
  });
});
