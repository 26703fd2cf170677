import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { freshDatabase, sql } from './db';
import { runCli } from './cli-run';

/** drop_table never orphans another migration: the table it drops has none in progress, and takes none while it is pending. */
function specFile(name: string, yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-droptable-'));
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, yaml);
  return file;
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);
const SETUP = `CREATE TABLE orders (id int PRIMARY KEY); CREATE TABLE archive (id int PRIMARY KEY, full_name text); INSERT INTO archive VALUES (1, 'Ada Lovelace');`;
const TAG = `name: tag-archive\ntable: archive\noperations:\n  - add_column: { name: tag, type: text, up: "upper(full_name)" }\n`;
const DROP = `name: drop-archive\ntable: orders\noperations:\n  - drop_table: { name: archive }\n`;

it('drop_table is refused (validate, expand) while another migration is in progress on that table, naming it', async () => {
  const url = await freshDatabase('dropbusy');
  await sql(url, SETUP);
  const env = { DATABASE_URL: url };
  const tag = specFile('tag', TAG);
  const drop = specFile('drop', DROP);
  expect((await runCli(['expand', tag], env)).code).toBe(0);
  for (const command of ['validate', 'expand']) {
    const refused = await runCli([command, drop, '--json'], env);
    expect(refused.code).toBe(1);
    expect(lastJson(refused.stdout).error.message).toBe(
      'drop_table public.archive refused: migration tag-archive is in progress on that table; contract or roll it back first',
    );
  }
  // Once that migration is done, the drop goes ahead.
  expect((await runCli(['rollback', tag], env)).code).toBe(0);
  expect((await runCli(['expand', drop], env)).code).toBe(0);
  expect((await runCli(['contract', drop], env)).code).toBe(0);
  expect(await sql(url, `SELECT to_regclass('archive') IS NULL AS gone`)).toEqual([{ gone: true }]);
});

it('a table that a migration in progress drops at contract takes no new migration, naming the one that drops it', async () => {
  const url = await freshDatabase('dropbusy2');
  await sql(url, SETUP);
  const env = { DATABASE_URL: url };
  const tag = specFile('tag', TAG);
  const drop = specFile('drop', DROP);
  expect((await runCli(['expand', drop], env)).code).toBe(0);
  const refused = await runCli(['expand', tag, '--json'], env);
  expect(refused.code).toBe(1);
  expect(lastJson(refused.stdout).error.message).toBe(
    'tag-archive refused: table public.archive is dropped at contract by migration drop-archive, in progress; contract or roll it back first',
  );
  expect(
    await sql(
      url,
      `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'archive'::regclass AND attname = 'tag'`,
    ),
  ).toEqual([{ n: 0 }]);
});

it('contract of a drop_table refuses when a migration of that table started since (a state recorded without the dropped tables)', async () => {
  const url = await freshDatabase('dropbusy3');
  await sql(url, SETUP);
  const env = { DATABASE_URL: url };
  const tag = specFile('tag', TAG);
  const drop = specFile('drop', DROP);
  expect((await runCli(['expand', drop], env)).code).toBe(0);
  // As an earlier Tandem recorded it: nothing in the state says which tables the spec drops.
  await sql(
    url,
    `UPDATE tandem.migrations SET resolved = jsonb_set(resolved, '{objects,0}', (resolved->'objects'->0) - 'dropsTables') WHERE name = 'drop-archive'`,
  );
  expect((await runCli(['expand', tag], env)).code).toBe(0);
  const refused = await runCli(['contract', drop, '--json'], env);
  expect(refused.code).toBe(1);
  expect(lastJson(refused.stdout).error.message).toBe(
    'drop_table public.archive refused: migration tag-archive is in progress on that table; contract or roll it back first',
  );
  expect(await sql(url, `SELECT to_regclass('archive') IS NOT NULL AS kept`)).toEqual([{ kept: true }]);
  expect((await runCli(['status', tag], env)).code).toBe(0);
});
