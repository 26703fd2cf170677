import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { rawSqlProblem } from '../phases/sql/operations/raw-sql-guard';
import { runCli } from './cli-run';
import { createCustomers } from './fixtures';
import { freshDatabase, sql } from './db';

/**
 * raw_sql runs inside the step's own transaction and under its bounds: transaction control would
 * commit part of expand (even from validate, a dry run), and a SET of a timeout would lift the
 * bound that keeps app writes from waiting behind ACCESS EXCLUSIVE. Refused before anything runs;
 * what a function changes where no lexer sees it is caught after the statement, and undone.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-raw-guard-'));
let n = 0;
function specFile(up: string): string {
  const file = path.join(dir, `s${n++}.yaml`);
  fs.writeFileSync(
    file,
    `name: raw-guard\ntable: customers\noperations:\n  - add_column: { name: nickname, type: text, up: "full_name" }\n  - raw_sql: { up: ${JSON.stringify(up)}, down: "SELECT 1" }\n`,
  );
  return file;
}

async function untouched(url: string): Promise<void> {
  expect(
    await sql(
      url,
      `SELECT attname FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attname IN ('nickname', '_tandem_pending') AND NOT attisdropped`,
    ),
  ).toEqual([]);
  expect(await sql(url, `SELECT nspname FROM pg_namespace WHERE nspname = 'tandem'`)).toEqual([]);
}

describe('what raw_sql may not do (lexical, PostgreSQL quoting rules)', () => {
  it.each([
    ['COMMIT', /COMMIT is transaction control/],
    ['commit work', /COMMIT is transaction control/],
    ['  /* note */ END', /END is transaction control/],
    ['BEGIN', /BEGIN is transaction control/],
    ['START TRANSACTION', /START is transaction control/],
    ['ROLLBACK', /ROLLBACK is transaction control/],
    ['ABORT', /ABORT is transaction control/],
    ['SAVEPOINT s1', /SAVEPOINT is transaction control/],
    ['RELEASE SAVEPOINT s1', /RELEASE is transaction control/],
    ["PREPARE TRANSACTION 'x'", /PREPARE TRANSACTION is transaction control/],
    ["COMMIT PREPARED 'x'", /COMMIT is transaction control/],
    ['SET LOCAL statement_timeout = 0', /SET statement_timeout changes a setting/],
    ['set statement_timeout to 0', /SET statement_timeout changes a setting/],
    ['SET SESSION lock_timeout = 0', /SET lock_timeout changes a setting/],
    ['SET "idle_in_transaction_session_timeout" = 0', /SET idle_in_transaction_session_timeout changes a setting/],
    ['RESET lock_timeout', /RESET lock_timeout changes a setting/],
    ['RESET ALL', /RESET ALL resets the step's bounds/],
    ['SET ROLE app', /SET role changes a setting/],
    ['SET SESSION AUTHORIZATION app', /SET SESSION AUTHORIZATION changes the step's role/],
    ['RESET SESSION AUTHORIZATION', /RESET SESSION AUTHORIZATION changes the step's role/],
    ['SET LOCAL tandem.backfill = on', /SET tandem\.backfill changes a setting/],
    ['DISCARD ALL', /DISCARD resets the session/],
    [
      "SELECT set_config('statement_timeout', '0', true)",
      /set_config\('statement_timeout', \.\.\.\) changes a setting/,
    ],
    [
      "SELECT pg_catalog.set_config('LOCK_TIMEOUT', '0', false)",
      /set_config\('LOCK_TIMEOUT', \.\.\.\) changes a setting/,
    ],
    [
      "SELECT set_config(current_setting('x.name'), '0', true)",
      /set_config\(\) with a setting name that is not a string constant/,
    ],
    ['DO $$BEGIN COMMIT; END$$', /COMMIT inside a DO block is transaction control/],
    ["DO $do$BEGIN EXECUTE 'SET LOCAL statement_timeout = 0'; END$do$", /SET statement_timeout changes a setting/],
    [
      "DO LANGUAGE plpgsql $$BEGIN PERFORM set_config('lock_timeout', '0', true); END$$",
      /set_config\('lock_timeout', \.\.\.\) changes a setting .*inside a DO block/,
    ],
    [
      'DO $$BEGIN SET LOCAL statement_timeout = 0; END$$',
      /SET statement_timeout changes a setting .*inside a DO block/,
    ],
    [
      'DO $$BEGIN IF true THEN RESET lock_timeout; END IF; END$$',
      /RESET lock_timeout changes a setting .*inside a DO block/,
    ],
    ['DO $a$BEGIN EXECUTE $b$DO $c$BEGIN COMMIT; END$c$$b$; END$a$', /COMMIT inside a DO block is transaction control/],
    ["DO $$BEGIN EXECUTE 'ROLLBACK'; END$$", /ROLLBACK is transaction control/],
    ['CREATE VIEW v AS SELECT 1; COMMIT', /holds a semicolon outside quotes/],
    ["SELECT 'unclosed", /unclosed string constant/],
    ['SELECT 1 /* unclosed', /unclosed comment/],
  ])('%s is refused', (statement, why) => {
    expect(rawSqlProblem(statement)).toMatch(why);
  });

  it.each([
    'CREATE VIEW items_public AS SELECT id, sku FROM items',
    "COMMENT ON TABLE items IS 'commit; then set statement_timeout = 0'",
    'COMMENT ON TABLE items IS $$ROLLBACK$$',
    "SELECT set_config('app.tenant', '42', true)",
    'SET LOCAL search_path = public',
    "SELECT E'it\\'s -- not a comment; COMMIT'",
    '/* COMMIT; */ SELECT 1 -- ROLLBACK',
    'SELECT "commit" FROM (SELECT 1 AS "commit") x',
    'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $f$ SELECT 1 $f$',
    'CALL some_procedure()',
    "UPDATE customers SET role = 'admin' WHERE id = 1",
    'INSERT INTO t (id, role) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET role = EXCLUDED.role',
    "DO $$BEGIN UPDATE orders SET state = 'end' WHERE id = 1; RAISE NOTICE 'start'; END$$",
  ])('%s is accepted', (statement) => {
    expect(rawSqlProblem(statement)).toBeNull();
  });
});

describe('raw_sql against a real database', () => {
  it('COMMIT in raw_sql: validate exits 2 naming it, and nothing is committed', async () => {
    const url = await freshDatabase('rawcommit');
    await createCustomers(url, 5);
    const r = await runCli(['validate', specFile('COMMIT'), '--json'], { DATABASE_URL: url });
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out.error.message).toMatch(/raw_sql\.up: refused: COMMIT is transaction control/);
    await untouched(url);
  });

  it('SET LOCAL statement_timeout = 0 in raw_sql: expand exits 2, nothing changed', async () => {
    const url = await freshDatabase('rawsettimeout');
    await createCustomers(url, 5);
    const r = await runCli(['expand', specFile('SET LOCAL statement_timeout = 0')], { DATABASE_URL: url });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /raw_sql\.up: refused: SET statement_timeout changes a setting the step's bounds or role rely on/,
    );
    await untouched(url);
  });

  it('a function that lifts a bound where no lexer sees it: expand is undone after the statement, exit 2', async () => {
    const url = await freshDatabase('rawfunction');
    await createCustomers(url, 5);
    await sql(
      url,
      `CREATE FUNCTION lift_bounds() RETURNS text LANGUAGE sql AS $$ SELECT set_config('statement_timeout', '0', true) $$`,
    );
    const r = await runCli(['expand', specFile('SELECT lift_bounds()'), '--json'], { DATABASE_URL: url });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toMatch(
      /raw_sql statement raw-sql-up-1 changed what the step's bounds rely on \(statement_timeout \S+ -> 0\), so expand was undone/,
    );
    await untouched(url);
  });

  it("a procedure that commits, CALLed from raw_sql: PostgreSQL refuses it inside the step's transaction block, validate commits nothing", async () => {
    const url = await freshDatabase('rawcall');
    await createCustomers(url, 5);
    await sql(url, `CREATE PROCEDURE commit_now() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$`);
    const r = await runCli(['validate', specFile('CALL commit_now()'), '--json'], { DATABASE_URL: url });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.message).toMatch(/failed at "raw-sql-up-1".*invalid transaction termination/);
    await untouched(url);
  });

  it("data migrations that only look like guarded statements expand: a column named role, an enum value 'end' in a DO block", async () => {
    const url = await freshDatabase('rawlookalike');
    await createCustomers(url, 3);
    await sql(url, `ALTER TABLE customers ADD COLUMN role text, ADD COLUMN stage text`);
    const file = path.join(dir, `s${n++}.yaml`);
    const ups = [
      "UPDATE customers SET role = 'member' WHERE role IS NULL",
      "DO $$BEGIN UPDATE customers SET stage = 'end' WHERE id = 1; RAISE NOTICE 'start'; END$$",
    ];
    fs.writeFileSync(
      file,
      `name: raw-lookalike\ntable: customers\noperations:\n  - raw_sql: { up: ${JSON.stringify(ups)}, down: "SELECT 1" }\n`,
    );
    const r = await runCli(['expand', file, '--json'], { DATABASE_URL: url });
    expect(r.stdout).not.toMatch(/refused/);
    expect(r.code).toBe(0);
    expect(await sql(url, `SELECT id, role, stage FROM customers ORDER BY id`)).toEqual([
      { id: '1', role: 'member', stage: 'end' },
      { id: '2', role: 'member', stage: null },
      { id: '3', role: 'member', stage: null },
    ]);
  });

  it('a raw_sql that only creates a view still expands', async () => {
    const url = await freshDatabase('rawview');
    await createCustomers(url, 5);
    const r = await runCli(['expand', specFile('CREATE VIEW customers_names AS SELECT id, full_name FROM customers')], {
      DATABASE_URL: url,
    });
    expect(r.stderr).not.toMatch(/failed|refused/);
    expect(r.code).toBe(0);
    expect(await sql(url, `SELECT viewname FROM pg_views WHERE viewname = 'customers_names'`)).toEqual([
      { viewname: 'customers_names' },
    ]);
  });
});
