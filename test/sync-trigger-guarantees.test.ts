import { backfill, contract, expand, repair, rollback, status, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, sql } from './db';

/**
 * The sync trigger's guarantees on schemas the demo table does not have: name resolution identical
 * to the backfill's UPDATE, writes judged by the SET list, expressions that raise, volatile defaults,
 * expressions reading other columns, a lossy down, NULLs, and BEFORE triggers sorting after ours.
 */
const spec = (yaml: string) => parseSpec(yaml, 'test spec');
const opts = (url: string) => ({ databaseUrl: url, lockTimeoutMs: 2000 });

describe('expressions resolve exactly as in the backfill UPDATE', () => {
  it('a column named found, a subquery whose column collides, the table name as qualifier, odd names in another schema', async () => {
    const url = await freshDatabase('resolve');
    await sql(
      url,
      `CREATE SCHEMA "Sales Dept";
       CREATE TABLE "Sales Dept".people (id int PRIMARY KEY, found int, "na""me é" text NOT NULL);
       CREATE TABLE "Sales Dept".titles (id int, "na""me é" text);
       INSERT INTO "Sales Dept".titles VALUES (1, 'Dr');`,
    );
    // Empty table: nothing to probe by updating a row.
    const s = spec(`
name: resolve
table: people
operations:
  - add_column:
      name: tag
      type: text
      up: "coalesce(found::text, 'none') || ':' || people.\\"na\\"\\"me é\\" || ':' || (SELECT \\"na\\"\\"me é\\" FROM \\"Sales Dept\\".titles t WHERE t.id = people.id)"
`);
    const parsed = { ...s, schema: 'Sales Dept' };
    await expand(parsed, opts(url));
    await sql(url, `INSERT INTO "Sales Dept".people (id, found, "na""me é") VALUES (1, 7, 'Ada'), (2, NULL, 'Bob')`);
    const rows = await sql(url, `SELECT id, tag FROM "Sales Dept".people ORDER BY id`);
    // In the UPDATE, found is the column (not PL/pgSQL's FOUND) and the subquery's name is titles' column.
    const expected = await sql(
      url,
      `SELECT id, (coalesce(found::text, 'none') || ':' || people."na""me é" || ':' || (SELECT "na""me é" FROM "Sales Dept".titles t WHERE t.id = people.id)) AS tag FROM "Sales Dept".people ORDER BY id`,
    );
    expect(rows).toEqual(expected);
    expect(rows[0].tag).toBe('7:Ada:Dr');
    expect((await verify(parsed, opts(url))).ok).toBe(true);
  });
});

describe('an up that raises on some values never fails an app write', () => {
  it('the write goes through, the row is flagged, verify, status and contract name it, and a fixed row clears', async () => {
    const url = await freshDatabase('raises');
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
    await backfill(s, opts(url));
    const r = await sql(url, `INSERT INTO homes (addr) VALUES ('Flat 3, Baker St') RETURNING id`);
    const id = String(r[0].id);
    const report = await verify(s, opts(url));
    expect(report.ok).toBe(false);
    expect(report.syncFailedRows).toBe(1);
    expect(report.syncFailedSampleKeys).toEqual([id]);
    expect((await status(s, opts(url))).syncFailedRows).toBe(1);
    await expect(contract(s, opts(url))).rejects.toThrow(new RegExp(`tandem repair.*${id}`));
    // repair cannot make the expression accept the value: it says so, and the row stays flagged.
    const stuck = await repair(s, opts(url));
    expect(stuck.stillFailing.map((f) => f.key)).toEqual([id]);
    // The writer fixes the value: the trigger derives the new side and clears the flag.
    await sql(url, `UPDATE homes SET addr = '3 Baker St' WHERE id = $1`, [id]);
    expect((await sql(url, `SELECT number FROM homes WHERE id = $1`, [id]))[0].number).toBe(3);
    expect((await verify(s, opts(url))).ok).toBe(true);
  });

  it('tandem repair re-derives a flagged row from the side its writer wrote once the expression accepts it', async () => {
    const url = await freshDatabase('repair');
    await sql(
      url,
      `CREATE TABLE codes (name text PRIMARY KEY, code int);
       CREATE FUNCTION code_of(n text) RETURNS int LANGUAGE plpgsql STABLE AS $$
         DECLARE c int; BEGIN SELECT code INTO c FROM codes WHERE name = n; IF c IS NULL THEN RAISE EXCEPTION 'no code for %', n; END IF; RETURN c; END $$;
       CREATE TABLE shops (id int PRIMARY KEY, city text NOT NULL);`,
    );
    const s = spec(`
name: city-code
table: shops
operations:
  - add_column:
      name: city_code
      type: integer
      up: "code_of(city)"
`);
    await expand(s, opts(url));
    await sql(url, `INSERT INTO shops VALUES (1, 'Leeds')`);
    expect((await verify(s, opts(url))).syncFailedRows).toBe(1);
    await sql(url, `INSERT INTO codes VALUES ('Leeds', 113)`);
    const fixed = await repair(s, { ...opts(url), keys: ['1'] });
    expect(fixed.repaired).toBe(1);
    expect(fixed.stillFailing).toEqual([]);
    expect(await sql(url, `SELECT city_code, _tandem_pending FROM shops`)).toEqual([
      { city_code: 113, _tandem_pending: false },
    ]);
    expect((await verify(s, opts(url))).ok).toBe(true);
  });
});

const SPLIT = `
name: split
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
`;

describe('writes are judged by the SET list, not by which values changed', () => {
  let url: string;
  beforeAll(async () => {
    url = await freshDatabase('setlist');
    await sql(
      url,
      `CREATE TABLE people (id int PRIMARY KEY, full_name text NOT NULL, title text); INSERT INTO people VALUES (1, 'Ada Lovelace', NULL), (2, 'Alan Turing', NULL)`,
    );
    await expand(spec(SPLIT), opts(url));
    await backfill(spec(SPLIT), opts(url));
  });

  it('a v2 write that repeats full_name and changes the new side keeps full_name as written', async () => {
    await sql(
      url,
      `UPDATE people SET full_name = 'Ada Lovelace', first_name = 'Augusta', last_name = 'King' WHERE id = 1`,
    );
    expect(await sql(url, `SELECT full_name, first_name, last_name FROM people WHERE id = 1`)).toEqual([
      { full_name: 'Ada Lovelace', first_name: 'Augusta', last_name: 'King' },
    ]);
  });

  it('a v2 write that repeats the new side and changes full_name keeps the new side as written', async () => {
    await sql(
      url,
      `UPDATE people SET full_name = 'Alan M Turing', first_name = 'Alan', last_name = 'Turing' WHERE id = 2`,
    );
    expect(await sql(url, `SELECT full_name, first_name, last_name FROM people WHERE id = 2`)).toEqual([
      { full_name: 'Alan M Turing', first_name: 'Alan', last_name: 'Turing' },
    ]);
  });
});

describe('volatile defaults on old columns', () => {
  it('a new-side-only insert gets the old column from down, not from a second evaluation of the default', async () => {
    const url = await freshDatabase('volatile');
    await sql(url, `CREATE TABLE items (id int PRIMARY KEY, ext uuid NOT NULL DEFAULT gen_random_uuid())`);
    const s = spec(`
name: rename-ext
table: items
operations:
  - rename_column:
      from: ext
      to: public_id
`);
    await expand(s, opts(url));
    await sql(url, `INSERT INTO items (id, public_id) VALUES (1, '00000000-0000-0000-0000-000000000001')`);
    expect(await sql(url, `SELECT ext::text, public_id::text FROM items`)).toEqual([
      { ext: '00000000-0000-0000-0000-000000000001', public_id: '00000000-0000-0000-0000-000000000001' },
    ]);
    await sql(url, `INSERT INTO items (id) VALUES (2)`);
    const [row] = await sql(url, `SELECT ext::text, public_id::text FROM items WHERE id = 2`);
    expect(row.public_id).toBe(row.ext);
  });
});

describe('an up that reads more than the old columns of its operation', () => {
  it('a v1 update of another column it reads recomputes the new side', async () => {
    const url = await freshDatabase('reads');
    await sql(
      url,
      `CREATE TABLE people (id int PRIMARY KEY, full_name text NOT NULL, title text); INSERT INTO people VALUES (1, 'Ada Lovelace', 'Countess')`,
    );
    const s = spec(`
name: greeting
table: people
operations:
  - split_column:
      column: full_name
      into:
        - name: greeting
          type: text
          up: "concat_ws(' ', title, split_part(full_name, ' ', 1))"
      down: "full_name"
`);
    await expand(s, opts(url));
    await backfill(s, opts(url));
    await sql(url, `UPDATE people SET title = 'Lady' WHERE id = 1`);
    expect(await sql(url, `SELECT greeting FROM people`)).toEqual([{ greeting: 'Lady Ada' }]);
  });

  it('an expression that reads a generated column is refused', async () => {
    const url = await freshDatabase('generated');
    await sql(
      url,
      `CREATE TABLE people (id int PRIMARY KEY, full_name text NOT NULL, upper_name text GENERATED ALWAYS AS (upper(full_name)) STORED)`,
    );
    const s = spec(`
name: gen
table: people
operations:
  - add_column:
      name: shout
      type: text
      up: "upper_name || '!'"
`);
    await expect(expand(s, opts(url))).rejects.toThrow(/generated column "upper_name"/);
  });
});

describe('a lossy down', () => {
  it('verify --for-app v1 names the rows the new side wrote that v1 cannot reproduce, rollback refuses, --force accepts', async () => {
    const url = await freshDatabase('lossy');
    await sql(
      url,
      `CREATE TABLE people (id int PRIMARY KEY, first text, last text); INSERT INTO people VALUES (1, 'Grace', 'Hopper')`,
    );
    const s = spec(`
name: merge
table: people
operations:
  - merge_columns:
      columns: [first, last]
      into: { name: display_name, type: text, up: "concat_ws(' ', first, last)" }
      down: { first: "split_part(display_name, ' ', 1)", last: "NULL" }
`);
    await expand(s, opts(url));
    await backfill(s, opts(url));
    expect((await verify({ ...s }, { ...opts(url), forApp: 'v1' })).ok).toBe(true);
    await sql(url, `INSERT INTO people (id, display_name) VALUES (2, 'Ada Lovelace')`);
    expect((await verify(s, opts(url))).ok).toBe(true);
    expect((await verify(s, { ...opts(url), forApp: 'v3' })).ok).toBe(true);
    const v1 = await verify(s, { ...opts(url), forApp: 'v1' });
    expect(v1.ok).toBe(false);
    expect(v1.operations[0].lossySampleKeys).toEqual(['2']);
    expect(v1.message).toMatch(/keys 2/);
    await expect(rollback(s, opts(url))).rejects.toThrow(/rollback refused.*keys 2.*--force/);
    const forced = await rollback(s, { ...opts(url), force: true });
    expect(forced.step).toBe('rolled_back');
    expect(forced.warnings?.[0]).toMatch(/--force/);
  });
});

describe('NULLs and the backfill agree', () => {
  it('a v1 insert of NULL gets up(NULL), as the backfill gives', async () => {
    const url = await freshDatabase('nulls');
    await sql(url, `CREATE TABLE people (id int PRIMARY KEY, nick text); INSERT INTO people VALUES (1, NULL)`);
    const s = spec(`
name: nick
table: people
operations:
  - change_type:
      column: nick
      type: text
      into: handle
      up: "coalesce(nick, 'anon')"
      down: "nullif(handle, 'anon')"
`);
    await expand(s, opts(url));
    await backfill(s, opts(url));
    await sql(url, `INSERT INTO people (id, nick) VALUES (2, NULL)`);
    expect(await sql(url, `SELECT id, handle FROM people ORDER BY id`)).toEqual([
      { id: 1, handle: 'anon' },
      { id: 2, handle: 'anon' },
    ]);
  });

  it('a v3 write of NULL to a pending row is kept and the old side derived from it', async () => {
    const url = await freshDatabase('pendingnull');
    await sql(url, `CREATE TABLE people (id int PRIMARY KEY, nick text); INSERT INTO people VALUES (1, 'ada')`);
    const s = spec(`
name: nick2
table: people
operations:
  - rename_column:
      from: nick
      to: handle
`);
    await expand(s, opts(url));
    await sql(url, `UPDATE people SET handle = NULL WHERE id = 1`);
    expect(await sql(url, `SELECT nick, handle, _tandem_pending FROM people`)).toEqual([
      { nick: null, handle: null, _tandem_pending: false },
    ]);
  });
});

describe('BEFORE triggers that fire after the sync trigger', () => {
  it('expand warns, naming them', async () => {
    const url = await freshDatabase('latetrigger');
    await sql(
      url,
      `CREATE TABLE people (id int PRIMARY KEY, full_name text NOT NULL);
       CREATE FUNCTION trim_name() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.full_name := btrim(NEW.full_name); RETURN NEW; END $$;
       CREATE TRIGGER zzz_trim BEFORE INSERT OR UPDATE ON people FOR EACH ROW EXECUTE FUNCTION trim_name();
       CREATE TRIGGER aa_trim BEFORE INSERT OR UPDATE ON people FOR EACH ROW EXECUTE FUNCTION trim_name();`,
    );
    const result = await expand(spec(SPLIT), opts(url));
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings![0]).toMatch(/zzz_trim/);
  });
});

describe('expand probes the trigger on an empty table, touching no row', () => {
  it('an expression the trigger cannot evaluate (a system column) is refused even when the table is empty', async () => {
    const url = await freshDatabase('emptyprobe');
    await sql(
      url,
      `CREATE TABLE people (id int PRIMARY KEY, full_name text NOT NULL CHECK (full_name <> ''), boss int REFERENCES people)`,
    );
    const s = spec(`
name: sys
table: people
operations:
  - add_column:
      name: page
      type: text
      up: "ctid::text"
`);
    const err = await expand(s, opts(url)).catch((e) => e);
    expect(err.constructor.name).toBe('SpecError');
    expect(err.message).toMatch(/the sync trigger's up for add_column page fails on this table, so expand was undone/);
    expect(
      await sql(
        url,
        `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'page'`,
      ),
    ).toEqual([{ n: 0 }]);
    await sql(url, `INSERT INTO people VALUES (1, 'Ada', NULL)`);
  });
});

describe('several operations on a row the backfill has not reached', () => {
  it('a write of one operation derives the other from up, as the backfill would, and leaves the row backfilled', async () => {
    const url = await freshDatabase('multipending');
    await sql(
      url,
      `CREATE TABLE people (id int PRIMARY KEY, full_name text NOT NULL, mail text); INSERT INTO people VALUES (1, 'Ada Lovelace', 'ada@example.com')`,
    );
    const s = spec(`
name: two-ops
table: people
operations:
  - rename_column: { from: mail, to: email }
  - change_type: { column: full_name, type: varchar(100), into: name, up: "full_name", down: "name" }
`);
    await expand(s, opts(url));
    await sql(url, `UPDATE people SET email = 'countess@example.com' WHERE id = 1`);
    expect(await sql(url, `SELECT mail, email, full_name, name, _tandem_pending FROM people`)).toEqual([
      {
        mail: 'countess@example.com',
        email: 'countess@example.com',
        full_name: 'Ada Lovelace',
        name: 'Ada Lovelace',
        _tandem_pending: false,
      },
    ]);
    expect((await verify(s, opts(url))).ok).toBe(true);
  });
});

describe('drop_column: an UPDATE that does not name the dropped column leaves it alone', () => {
  it('a new-version update of other columns keeps what the old version wrote; only an insert without it gets down', async () => {
    const url = await freshDatabase('dropkeep');
    await sql(
      url,
      `CREATE TABLE flags (id int PRIMARY KEY, note text, legacy_flag boolean); INSERT INTO flags VALUES (1, 'a', true), (2, 'b', NULL);`,
    );
    const s = spec(`
name: drop-legacy
table: flags
operations:
  - drop_column: { column: legacy_flag, down: "false" }
`);
    await expand(s, opts(url));
    await backfill(s, opts(url));
    // As v3 writes: never names legacy_flag.
    await sql(
      url,
      `UPDATE flags SET note = 'v3' WHERE id IN (1, 2); INSERT INTO flags (id, note) VALUES (3, 'v3 insert')`,
    );
    expect(await sql(url, `SELECT id, legacy_flag FROM flags ORDER BY id`)).toEqual([
      { id: 1, legacy_flag: true },
      { id: 2, legacy_flag: null },
      { id: 3, legacy_flag: false },
    ]);
    expect((await verify(s, opts(url))).ok).toBe(true);
  });
});
