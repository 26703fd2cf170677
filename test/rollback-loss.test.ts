import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { freshDatabase, sql } from './db';
import { runCli } from './cli-run';

/**
 * Rollback gives back what the new version wrote, or refuses (exit 1) naming the keys until
 * --force: a `down` that raised in the trigger, a failure record the app role forged, a lossy
 * `down`, rows a check cannot evaluate, a table the spec created that holds rows. And an `up`
 * that raises on an existing row never makes verify or rollback fail with PostgreSQL's error.
 */
function specFile(name: string, yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-rbloss-'));
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, yaml);
  return file;
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);
const columnExists = async (url: string, table: string, column: string) =>
  (
    await sql(
      url,
      `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2 AND NOT attisdropped`,
      [table, column],
    )
  )[0].n === 1;

/** A code column whose domain holds 5 characters, widened to text: a new-version write of 6 makes `down` raise. */
const WIDEN = `name: widen\ntable: items\noperations:\n  - change_type:\n      column: code\n      into: code_text\n      type: text\n      up: "code::text"\n      down: "code_text"\n`;
const WIDEN_SETUP = `CREATE DOMAIN short_code AS text CHECK (length(VALUE) <= 5);
  CREATE TABLE items (id int PRIMARY KEY, code short_code, note text);
  INSERT INTO items VALUES (1, 'abc', NULL), (2, 'de', NULL);`;

describe('rollback refuses while it would not give back what the new version wrote', () => {
  it('a row whose down raised in the trigger (flagged, _tandem_pending NULL): refused naming the key, --force drops it', async () => {
    const url = await freshDatabase('rbflag');
    await sql(url, WIDEN_SETUP);
    const file = specFile('widen', WIDEN);
    const env = { DATABASE_URL: url };
    expect((await runCli(['expand', file], env)).code).toBe(0);
    expect((await runCli(['backfill', file], env)).code).toBe(0);
    // The new version writes a code the old column's domain cannot hold: the write goes through, down raised.
    await sql(url, `INSERT INTO items (id, code_text) VALUES (3, 'longer')`);
    await sql(url, `UPDATE items SET code_text = 'widest' WHERE id = 1`);
    expect(await sql(url, `SELECT id, code, _tandem_pending FROM items WHERE id IN (1, 3) ORDER BY id`)).toEqual([
      { id: 1, code: 'abc', _tandem_pending: null },
      { id: 3, code: null, _tandem_pending: null },
    ]);
    const refused = await runCli(['rollback', file, '--json'], env);
    expect(refused.code).toBe(1);
    expect(lastJson(refused.stdout).error.message).toMatch(
      /rollback refused: .*2 rows whose sync raised.*keys 1, 3.*--force/,
    );
    expect(await columnExists(url, 'items', 'code_text')).toBe(true);
    const forced = await runCli(['rollback', file, '--force', '--json'], env);
    expect(forced.code).toBe(0);
    expect(lastJson(forced.stdout).warnings[0]).toMatch(/keys 1, 3/);
    expect(await columnExists(url, 'items', 'code_text')).toBe(false);
  });

  it('a failure record the app role wrote (garbage, an operation index out of range, side new) is not trusted: refused', async () => {
    const url = await freshDatabase('rbforged');
    await sql(url, WIDEN_SETUP);
    const file = specFile('widen', WIDEN);
    const env = { DATABASE_URL: url };
    expect((await runCli(['expand', file], env)).code).toBe(0);
    expect((await runCli(['backfill', file], env)).code).toBe(0);
    // Only an object of valid indexes with side "old" is a write rollback keeps; the rest is refused.
    await sql(url, `UPDATE items SET _tandem_sync_failed = '"junk"', _tandem_pending = NULL WHERE id = 1`);
    await sql(
      url,
      `UPDATE items SET _tandem_sync_failed = '{"7": {"side": "old"}}', _tandem_pending = NULL WHERE id = 2`,
    );
    await sql(url, `INSERT INTO items (id, code) VALUES (3, 'x'), (4, 'y')`);
    await sql(url, `UPDATE items SET _tandem_sync_failed = '{}', _tandem_pending = NULL WHERE id = 3`);
    await sql(
      url,
      `UPDATE items SET _tandem_sync_failed = '{"0": {"error": "no side"}}', _tandem_pending = NULL WHERE id = 4`,
    );
    const refused = await runCli(['rollback', file, '--json'], env);
    expect(refused.code).toBe(1);
    expect(lastJson(refused.stdout).error.message).toMatch(
      /4 rows whose sync raised.*cannot be read \(e\.g\. keys 1, 2, 3, 4\)/,
    );
    // A record of valid old-side failures is a write of the old side, which rollback keeps.
    await sql(
      url,
      `UPDATE items SET _tandem_sync_failed = '{"0": {"side": "old", "error": "x"}}' WHERE id IN (1, 2, 3, 4)`,
    );
    expect((await runCli(['rollback', file, '--json'], env)).code).toBe(0);
  });

  it('a failure record naming the old side of an operation that derives nothing from it (an add_column with only a default) does not hide a new-version write: refused', async () => {
    const url = await freshDatabase('rbforgedold');
    await sql(
      url,
      `CREATE TABLE users (id int PRIMARY KEY, name text); INSERT INTO users VALUES (1, 'ada'), (2, 'bob')`,
    );
    const file = specFile(
      'theme',
      `name: theme\ntable: users\noperations:\n  - add_column: { name: theme, type: text, default: "'light'" }\n`,
    );
    const env = { DATABASE_URL: url };
    expect((await runCli(['expand', file], env)).code).toBe(0);
    await sql(url, `UPDATE users SET theme = 'dark', _tandem_sync_failed = '{"0": {"side": "old"}}' WHERE id = 2`);
    const refused = await runCli(['rollback', file, '--json'], env);
    expect(refused.code).toBe(1);
    expect(lastJson(refused.stdout).error.message).toMatch(
      /1 rows whose sync raised.*cannot be read \(e\.g\. keys 2\)/,
    );
    expect(await columnExists(url, 'users', 'theme')).toBe(true);
  });

  it('a trusted old-side failure of one operation does not hide a new-version write of an add_column with only a default in the same row: refused', async () => {
    const url = await freshDatabase('rbforgedother');
    await sql(
      url,
      `CREATE TABLE users (id int PRIMARY KEY, name text); INSERT INTO users VALUES (1, 'ada'), (2, 'bob')`,
    );
    const file = specFile(
      'two',
      `name: two\ntable: users\noperations:\n  - add_column: { name: shout, type: text, up: "upper(name)" }\n  - add_column: { name: theme, type: text, default: "'light'" }\n`,
    );
    const env = { DATABASE_URL: url };
    expect((await runCli(['expand', file], env)).code).toBe(0);
    expect((await runCli(['backfill', file], env)).code).toBe(0);
    await sql(
      url,
      `UPDATE users SET theme = 'dark', _tandem_sync_failed = '{"0": {"side": "old"}}', _tandem_pending = NULL WHERE id = 2`,
    );
    const refused = await runCli(['rollback', file, '--json'], env);
    expect(refused.code).toBe(1);
    expect(lastJson(refused.stdout).error.message).toMatch(
      /1 rows for add_column theme whose new column a new version wrote \(rollback drops the column\) \(e\.g\. keys 2\)/,
    );
  });

  it('a synced row whose up(down(new)) raises cannot be checked: refused naming it, not PostgreSQL error; --force rolls back', async () => {
    const url = await freshDatabase('rbraise');
    await sql(url, `CREATE TABLE products (id int PRIMARY KEY, price text); INSERT INTO products VALUES (1, '10.50')`);
    const file = specFile(
      'cents',
      `name: cents\ntable: products\noperations:\n  - change_type:\n      column: price\n      into: price_cents\n      type: integer\n      up: "(price::numeric * 100)::integer"\n      down: "CASE WHEN price_cents < 0 THEN 'refund' ELSE (price_cents / 100.0)::numeric(12,2)::text END"\n`,
    );
    const env = { DATABASE_URL: url };
    expect((await runCli(['expand', file], env)).code).toBe(0);
    expect((await runCli(['backfill', file], env)).code).toBe(0);
    // The new version writes a negative amount: the old side reads 'refund', which `up` cannot parse.
    await sql(url, `INSERT INTO products (id, price_cents) VALUES (2, -500)`);
    const refused = await runCli(['rollback', file, '--json'], env);
    expect(refused.code).toBe(1);
    expect(lastJson(refused.stdout).error.message).toMatch(
      /rollback refused: .*1 rows that cannot be checked because an up or down expression raises on them \(invalid input syntax for type numeric: "refund"\) \(e\.g\. keys 2\)/,
    );
    expect((await runCli(['rollback', file, '--force', '--json'], env)).code).toBe(0);
    expect(await sql(url, `SELECT id, price FROM products ORDER BY id`)).toEqual([
      { id: 1, price: '10.50' },
      { id: 2, price: 'refund' },
    ]);
  });

  it('an add_column without up whose column a new version wrote (anything but NULL or its constant default): refused naming the keys', async () => {
    const url = await freshDatabase('rbaddcol');
    await sql(
      url,
      `CREATE TABLE users (id int PRIMARY KEY, name text); INSERT INTO users VALUES (1, 'ada'), (2, 'bob'), (3, 'cy')`,
    );
    const file = specFile(
      'prefs',
      `name: prefs\ntable: users\noperations:\n  - add_column: { name: nickname, type: text }\n  - add_column: { name: theme, type: text, default: "'light'" }\n`,
    );
    const env = { DATABASE_URL: url };
    expect((await runCli(['expand', file], env)).code).toBe(0);
    // v1's insert and a new version's write of the default lose nothing; these two writes would be lost.
    await sql(url, `INSERT INTO users (id, name) VALUES (4, 'di'); UPDATE users SET theme = 'light' WHERE id = 1`);
    await sql(url, `UPDATE users SET nickname = 'B' WHERE id = 2; UPDATE users SET theme = 'dark' WHERE id = 3`);
    const refused = await runCli(['rollback', file, '--json'], env);
    expect(refused.code).toBe(1);
    expect(lastJson(refused.stdout).error.message).toMatch(
      /1 rows for add_column nickname whose new column a new version wrote \(rollback drops the column\) \(e\.g\. keys 2\); 1 rows for add_column theme whose new column a new version wrote \(rollback drops the column\) \(e\.g\. keys 3\)/,
    );
    expect((await runCli(['rollback', file, '--force'], env)).code).toBe(0);
  });

  it("an add_column whose constant default PostgreSQL folds when the column is added ('now'::timestamptz): rows holding it were not written by a new version, rollback runs", async () => {
    const url = await freshDatabase('rbfolded');
    await sql(
      url,
      `CREATE TABLE users (id int PRIMARY KEY, name text); INSERT INTO users VALUES (1, 'ada'), (2, 'bob')`,
    );
    const file = specFile(
      'stamp',
      `name: stamp\ntable: users\noperations:\n  - add_column: { name: seen_at, type: timestamptz, default: "'now'::timestamptz" }\n`,
    );
    const env = { DATABASE_URL: url };
    expect((await runCli(['expand', file], env)).code).toBe(0);
    // An old version's insert gets the same folded default; a new version writes another time into row 2.
    await sql(
      url,
      `INSERT INTO users (id, name) VALUES (3, 'cy'); UPDATE users SET seen_at = seen_at - interval '1 day' WHERE id = 2`,
    );
    const refused = await runCli(['rollback', file, '--json'], env);
    expect(refused.code).toBe(1);
    expect(lastJson(refused.stdout).error.message).toMatch(
      /rollback refused: .*1 rows for add_column seen_at whose new column a new version wrote \(rollback drops the column\) \(e\.g\. keys 2\)/,
    );
    await sql(url, `UPDATE users SET seen_at = (SELECT seen_at FROM users WHERE id = 1) WHERE id = 2`);
    const r = await runCli(['rollback', file, '--json'], env);
    expect(r.stdout).not.toMatch(/refused/);
    expect(r.code).toBe(0);
    expect(await columnExists(url, 'users', 'seen_at')).toBe(false);
  });

  it('a table the spec created that the new version wrote rows into: refused naming it', async () => {
    const url = await freshDatabase('rbtable');
    await sql(url, `CREATE TABLE orders (id int PRIMARY KEY)`);
    const file = specFile(
      'notes',
      `name: notes\ntable: orders\noperations:\n  - create_table:\n      name: order_notes\n      columns: [{ name: id, type: int }, { name: body, type: text }]\n      primary_key: [id]\n`,
    );
    const env = { DATABASE_URL: url };
    expect((await runCli(['expand', file], env)).code).toBe(0);
    await sql(url, `INSERT INTO order_notes VALUES (1, 'ship fast')`);
    const refused = await runCli(['rollback', file, '--json'], env);
    expect(refused.code).toBe(1);
    expect(lastJson(refused.stdout).error.message).toMatch(
      /1 rows in table public\.order_notes, which this spec created and rollback drops/,
    );
    expect((await runCli(['rollback', file, '--force'], env)).code).toBe(0);
    expect(await sql(url, `SELECT to_regclass('order_notes') IS NULL AS gone`)).toEqual([{ gone: true }]);
  });
});

describe('an up that raises on an existing row never leaves the migration stuck', () => {
  const CENTS = `name: cents\ntable: products\noperations:\n  - change_type:\n      column: price\n      into: price_cents\n      type: integer\n      up: "(price::numeric * 100)::integer"\n      down: "(price_cents / 100.0)::numeric(12,2)::text"\n`;
  const SETUP = `CREATE TABLE products (id int PRIMARY KEY, price text); INSERT INTO products VALUES (1, '10.50'), (2, 'n/a'), (3, '3');`;

  it('verify reports the row (exit 1, no PostgreSQL error), contract refuses naming it, rollback (no --force) rolls back', async () => {
    const url = await freshDatabase('stuckup');
    await sql(url, SETUP);
    const file = specFile('cents', CENTS);
    const env = { DATABASE_URL: url };
    expect((await runCli(['expand', file], env)).code).toBe(0);
    const backfill = await runCli(['backfill', file], env);
    expect(backfill.code).toBe(1);
    expect(backfill.stderr + backfill.stdout).toMatch(
      /tandem verify names the rows it raises on.*tandem rollback works at any point before contract/,
    );
    const verify = await runCli(['verify', file, '--json'], env);
    expect(verify.code).toBe(1);
    const report = lastJson(verify.stdout);
    expect(report).toMatchObject({ ok: false, rows: 3, raisingRows: 1, raisingSampleKeys: ['2'] });
    expect(report.raisingError).toMatch(/invalid input syntax for type numeric: "n\/a"/);
    expect(report.message).toMatch(/1 rows on which an up or down expression raises \(keys 2/);
    const contract = await runCli(['contract', file, '--json'], env);
    expect(contract.code).toBe(1);
    expect(lastJson(contract.stdout).error.message).toMatch(/contract refused: .*raises \(keys 2/);
    const rolled = await runCli(['rollback', file, '--json'], env);
    expect(rolled.code).toBe(0);
    expect(lastJson(rolled.stdout).step).toBe('rolled_back');
    expect(await sql(url, `SELECT id, price FROM products ORDER BY id`)).toEqual([
      { id: 1, price: '10.50' },
      { id: 2, price: 'n/a' },
      { id: 3, price: '3' },
    ]);
  });

  it('rollback --force too, and the other rows are still checked around the one that raises', async () => {
    const url = await freshDatabase('stuckforce');
    await sql(url, SETUP);
    const file = specFile('cents', CENTS);
    const env = { DATABASE_URL: url };
    expect((await runCli(['expand', file], env)).code).toBe(0);
    // Row 3 is written by the new version: synced, consistent; row 2 stays pending and raises.
    await sql(url, `UPDATE products SET price_cents = 700 WHERE id = 3`);
    const report = lastJson((await runCli(['verify', file, '--json'], env)).stdout);
    expect(report).toMatchObject({
      raisingRows: 1,
      raisingSampleKeys: ['2'],
      pendingRows: 2,
      pendingSampleKeys: ['1', '2'],
    });
    expect((await runCli(['rollback', file, '--force', '--json'], env)).code).toBe(0);
    expect(await sql(url, `SELECT id, price FROM products ORDER BY id`)).toEqual([
      { id: 1, price: '10.50' },
      { id: 2, price: 'n/a' },
      { id: 3, price: '7.00' },
    ]);
  });
});
