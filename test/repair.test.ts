import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { freshDatabase, sql } from './db';
import { runCli } from './cli-run';

/** `tandem repair`, `tandem contract`'s refusal that names it, and `tandem rollback --force`, through the CLI. */
function specFile(name: string, yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-repair-'));
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, yaml);
  return file;
}

export const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);

it('contract names the flagged rows and tandem repair; repair exits 1 while a row still raises and 0 once it is fixed', async () => {
  const url = await freshDatabase('repaircli');
  await sql(
    url,
    `CREATE TABLE rates (currency text PRIMARY KEY, per_eur numeric);
     CREATE FUNCTION eur(amount numeric, cur text) RETURNS numeric LANGUAGE plpgsql STABLE AS $$
       DECLARE r numeric; BEGIN SELECT per_eur INTO r FROM rates WHERE currency = cur; IF r IS NULL THEN RAISE EXCEPTION 'no rate for %', cur; END IF; RETURN amount / r; END $$;
     CREATE TABLE orders (id int PRIMARY KEY, amount numeric NOT NULL, currency text NOT NULL);
     INSERT INTO rates VALUES ('EUR', 1);
     INSERT INTO orders VALUES (1, 10, 'EUR');`,
  );
  const file = specFile(
    'eur',
    `name: eur\ntable: orders\noperations:\n  - add_column: { name: amount_eur, type: numeric, up: "eur(amount, currency)" }\n`,
  );
  const env = { DATABASE_URL: url };
  expect((await runCli(['expand', file, '--json'], env)).code).toBe(0);
  expect((await runCli(['backfill', file, '--json'], env)).code).toBe(0);
  // The app's write goes through although `up` raises on it.
  await sql(url, `INSERT INTO orders VALUES (2, 20, 'GBP')`);
  const refused = await runCli(['contract', file], env);
  expect(refused.code).toBe(1);
  expect(refused.stdout + refused.stderr).toMatch(/tandem repair.*keys 2/);
  const stuck = await runCli(['repair', file, '--json'], env);
  expect(stuck.code).toBe(1);
  expect(lastJson(stuck.stdout).stillFailing).toEqual([{ key: '2', side: 'old', error: 'no rate for GBP' }]);
  await sql(url, `INSERT INTO rates VALUES ('GBP', 0.5)`);
  const fixed = await runCli(['repair', file, '--keys', '2', '--json'], env);
  expect(fixed.code).toBe(0);
  expect(lastJson(fixed.stdout).repaired).toBe(1);
  expect(await sql(url, `SELECT amount_eur = 40 AS ok FROM orders WHERE id = 2`)).toEqual([{ ok: true }]);
  expect((await runCli(['verify', file], env)).code).toBe(0);
  expect((await runCli(['contract', file], env)).code).toBe(0);
});

it('rollback refuses (exit 1) while a lossy down would drop new-version writes, and --force rolls back', async () => {
  const url = await freshDatabase('rollbackcli');
  await sql(
    url,
    `CREATE TABLE people (id int PRIMARY KEY, first text, last text); INSERT INTO people VALUES (1, 'Grace', 'Hopper')`,
  );
  const file = specFile(
    'merge',
    `name: merge\ntable: people\noperations:\n  - merge_columns:\n      columns: [first, last]\n      into: { name: display_name, type: text, up: "concat_ws(' ', first, last)" }\n      down: { first: "split_part(display_name, ' ', 1)", last: "NULL" }\n`,
  );
  const env = { DATABASE_URL: url };
  expect((await runCli(['expand', file], env)).code).toBe(0);
  await sql(url, `INSERT INTO people (id, display_name) VALUES (2, 'Ada Lovelace')`);
  const v1 = await runCli(['verify', file, '--for-app', 'v1'], env);
  expect(v1.code).toBe(1);
  expect(v1.stdout + v1.stderr).toMatch(/keys 2/);
  const refused = await runCli(['rollback', file], env);
  expect(refused.code).toBe(1);
  expect(refused.stdout + refused.stderr).toMatch(/--force/);
  expect(
    (
      await sql(
        url,
        `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'display_name'`,
      )
    )[0].n,
  ).toBe(1);
  expect((await runCli(['rollback', file, '--force'], env)).code).toBe(0);
  expect(await sql(url, `SELECT id, first, last FROM people ORDER BY id`)).toEqual([
    { id: 1, first: 'Grace', last: 'Hopper' },
    { id: 2, first: 'Ada', last: null },
  ]);
});
