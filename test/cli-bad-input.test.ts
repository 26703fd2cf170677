import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { freshDatabase, sql, withClient } from './db';
import { runCli, spawnCli } from './cli-run';
import { createCustomers, SPLIT_SPEC_PATH } from './fixtures';
import { snapshotTable } from './table-snapshot';

/** Bad input of every kind: exit 2, one sentence naming the problem, no stack trace, and the database untouched. */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-specs-'));
const GOOD = fs.readFileSync(SPLIT_SPEC_PATH, 'utf8');
function specFile(name: string, text: string): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}
const replace = (from: string, to: string) => {
  if (!GOOD.includes(from)) throw new Error(`fixture does not contain ${from}`);
  return GOOD.replace(from, to);
};

let url: string;
beforeAll(async () => {
  url = await freshDatabase('badinput');
  await createCustomers(url, 10);
  await sql(url, `CREATE TABLE no_pk (full_name text)`);
});

async function databaseState() {
  return withClient(url, async (c) => ({
    table: await snapshotTable(c, 'customers'),
    tandem: (await c.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'tandem'`)).rows[0].n,
  }));
}

const cases: [string, string[], RegExp][] = [
  ['a missing file', ['expand', path.join(dir, 'nope.yaml')], /nope\.yaml does not exist/],
  ['a directory', ['expand', dir], /is a directory/],
  ['invalid YAML', ['expand', specFile('yaml', 'name: x\n  table: [unclosed')], /not valid YAML/],
  ['an empty file', ['expand', specFile('empty', '')], /is empty/],
  [
    'empty operations',
    ['expand', specFile('noops', 'name: x\ntable: customers\noperations: []\n')],
    /operations: must be a non-empty list/,
  ],
  [
    'an unknown operation',
    [
      'expand',
      specFile('unknownop', 'name: x\ntable: customers\noperations:\n  - explode_column: { column: full_name }\n'),
    ],
    /explode_column: is not a known operation/,
  ],
  [
    'an unknown field',
    ['expand', specFile('unknownfield', replace('      down:', '      dwon:'))],
    /dwon: is not a known field/,
  ],
  [
    'a missing up',
    ['expand', specFile('noup', replace(`          up: "split_part(full_name, ' ', 1)"\n`, ''))],
    /into\[0\]\.up: is missing/,
  ],
  [
    'a missing down',
    ['expand', specFile('nodown', replace(`      down: "concat_ws(' ', first_name, last_name)"\n`, ''))],
    /down: is missing/,
  ],
  [
    'a bad spec name',
    ['expand', specFile('badname', replace('name: split-full-name', 'name: Split_Full'))],
    /name: must be lowercase/,
  ],
  [
    'an unknown table',
    ['expand', specFile('notable', replace('table: customers', 'table: clients'))],
    /table clients does not exist/,
  ],
  [
    'a table without a primary key',
    ['expand', specFile('nopk', replace('table: customers', 'table: no_pk'))],
    /has no primary key/,
  ],
  [
    'an unknown column',
    ['expand', specFile('nocolumn', replace('column: full_name', 'column: fullname'))],
    /column "fullname" does not exist/,
  ],
  ['an unknown type', ['expand', specFile('notype', replace('type: text', 'type: txet'))], /into\[0\].*txet/],
  [
    'a malformed type',
    ['expand', specFile('badtype', replace('type: text', 'type: "text; DROP TABLE customers"'))],
    /is not a type name/,
  ],
  [
    'a target column that exists',
    ['expand', specFile('clash', replace('name: first_name', 'name: email'))],
    /column "email" already exists/,
  ],
  [
    'injection in an existing name',
    ['expand', specFile('inject1', replace('column: full_name', `column: 'full_name"; DROP TABLE customers; --'`))],
    /does not exist/,
  ],
  [
    'injection in a new name',
    ['expand', specFile('inject2', replace('name: first_name', `name: "first_name text; DROP TABLE customers"`))],
    /is not a plain column name/,
  ],
  [
    'injection in an expression',
    [
      'expand',
      specFile(
        'inject3',
        replace(
          `up: "split_part(full_name, ' ', 1)"`,
          `up: "split_part(full_name, ' ', 1)); DROP TABLE customers; --"`,
        ),
      ),
    ],
    /unbalanced closing parenthesis|semicolon/,
  ],
  [
    'a semicolon in an expression',
    ['expand', specFile('inject4', replace(`up: "split_part(full_name, ' ', 1)"`, `up: "1; DROP TABLE customers"`))],
    /semicolon/,
  ],
  [
    'a comment in an expression',
    ['expand', specFile('inject5', replace(`up: "split_part(full_name, ' ', 1)"`, `up: "full_name -- hide the rest"`))],
    /comment/,
  ],
  [
    'an unknown function in an expression',
    ['expand', specFile('nofunc', replace(`split_part(full_name, ' ', 1)`, `splitpart(full_name, ' ', 1)`))],
    /splitpart/,
  ],
  [
    'an expression naming a missing column',
    [
      'expand',
      specFile('nocolexpr', replace(`concat_ws(' ', first_name, last_name)`, `concat_ws(' ', first_name, surname)`)),
    ],
    /split_column\.down: .*surname/,
  ],
  [
    'an over-long new name',
    ['expand', specFile('long1', replace('name: first_name', `name: ${'f'.repeat(64)}`))],
    /64 bytes long.*at most 63/,
  ],
  [
    'an over-long existing name',
    ['expand', specFile('long2', replace('column: full_name', `column: ${'c'.repeat(70)}`))],
    /70 bytes long/,
  ],
  [
    'a column in two operations',
    ['expand', specFile('twice', GOOD + `  - drop_column: { column: full_name, down: "'x'" }\n`)],
    /touches column "full_name"/,
  ],
  ['no spec argument', ['expand'], /needs a spec file/],
  ['an unknown flag', ['expand', SPLIT_SPEC_PATH, '--batch', '5'], /unknown option --batch/],
  [
    'a bad number',
    ['backfill', SPLIT_SPEC_PATH, '--batch-size', 'many'],
    /--batch-size must be a positive whole number \(N\), not "many"/,
  ],
  [
    'a zero batch size',
    ['backfill', SPLIT_SPEC_PATH, '--batch-size', '0'],
    /--batch-size must be a positive whole number \(N\), not "0"/,
  ],
  [
    'a negative chunk time',
    ['backfill', SPLIT_SPEC_PATH, '--chunk-time', '-5'],
    /--chunk-time must be a positive whole number \(MS\), not "-5"/,
  ],
  [
    'a negative throttle',
    ['backfill', SPLIT_SPEC_PATH, '--throttle-ms', '-1'],
    /--throttle-ms must be a whole number, 0 or more \(MS\), not "-1"/,
  ],
  [
    'a number too large to be exact',
    ['expand', SPLIT_SPEC_PATH, '--lock-timeout', '99999999999999999999'],
    /--lock-timeout must be a positive whole number/,
  ],
  [
    'repair --keys that is not JSON',
    ['repair', SPLIT_SPEC_PATH, '--keys', '[[1'],
    /--keys starts with "\[" but is not valid JSON/,
  ],
  [
    'repair --keys that is JSON but no list of keys',
    ['repair', SPLIT_SPEC_PATH, '--keys', '[1,2]'],
    /--keys \[1,2\] is not a non-empty JSON array of composite keys/,
  ],
  ['repair --keys with an empty key', ['repair', SPLIT_SPEC_PATH, '--keys', '1,,2'], /--keys "1,,2" has an empty key/],
  ['an unknown command', ['explode', SPLIT_SPEC_PATH], /unknown command "explode"/],
  ['an unknown sql step', ['sql', SPLIT_SPEC_PATH, '--step', 'launch'], /--step must be one of/],
  [
    'a non-postgres URL',
    ['expand', SPLIT_SPEC_PATH, '--database-url', 'mysql://localhost/x'],
    /must start with postgres/,
  ],
];

describe.each(cases)('%s', (_what, args, message) => {
  it('exits 2 with one sentence naming the problem and changes nothing', async () => {
    const before = await databaseState();
    const r = await runCli(args, { DATABASE_URL: url });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^✘ invalid input: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
    expect(await databaseState()).toEqual(before);
  });
});

describe('the real process', () => {
  it('exits 2 without a database and without a stack trace', async () => {
    const r = await spawnCli(['expand', SPLIT_SPEC_PATH]);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe('✘ invalid input: no database given: set DATABASE_URL or pass --database-url\n');
  });

  it('shows a stack trace only with --debug', async () => {
    const r = await spawnCli(['expand', path.join(dir, 'nope.yaml'), '--debug']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SpecError: spec file .* does not exist\n\s+at /);
  });

  it('exits 1 when the database cannot be reached', async () => {
    const r = await spawnCli(['status', SPLIT_SPEC_PATH, '--database-url', 'postgres://nobody@127.0.0.1:1/none']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^✘ failed: cannot connect to PostgreSQL at 127\.0\.0\.1:1\/none: /);
  });
});
