import { freshDatabase, sql, withClient } from './db';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from './cli-run';
import { snapshotSchema } from './object-snapshot';

/** Bad input in every field of the object operations: exit 2, one sentence naming the field, the database untouched. */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-object-specs-'));
let n = 0;
function specFile(operation: string): string {
  const file = path.join(dir, `s${n++}.yaml`);
  fs.writeFileSync(file, `name: bad-objects\ntable: items\noperations:\n  - ${operation}\n`);
  return file;
}

let url: string;
beforeAll(async () => {
  url = await freshDatabase('badobjects');
  await sql(
    url,
    `CREATE TABLE categories (id int PRIMARY KEY, label text);
     CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL, price int, note text, category_id int, CONSTRAINT items_sku_key UNIQUE (sku));
     CREATE INDEX items_note_idx ON items (note);`,
  );
});

const cases: [string, string, RegExp][] = [
  ['create_index without a name', `create_index: { columns: [sku] }`, /create_index\.name: is missing/],
  [
    'create_index with a bad name',
    `create_index: { name: "x; DROP TABLE items", columns: [sku] }`,
    /create_index\.name: .* is not a plain index name/,
  ],
  [
    'create_index with no columns',
    `create_index: { name: i1, columns: [] }`,
    /create_index\.columns: must be a non-empty list/,
  ],
  [
    'create_index on an unknown column',
    `create_index: { name: i1, columns: [nope] }`,
    /create_index\.columns\[0\]: column "nope" does not exist/,
  ],
  [
    'create_index with an injected expression',
    `create_index: { name: i1, columns: [{ expression: "lower(sku)); DROP TABLE items; --" }] }`,
    /create_index\.columns\[0\]\.expression: /,
  ],
  [
    'create_index with a mutable expression',
    `create_index: { name: i1, columns: [{ expression: "sku || now()::text" }] }`,
    /create_index: PostgreSQL rejects it: .*IMMUTABLE/,
  ],
  [
    'create_index with an unknown method',
    `create_index: { name: i1, columns: [sku], method: rtree }`,
    /create_index\.method: must be one of btree/,
  ],
  [
    'create_index unique with gin',
    `create_index: { name: i1, columns: [sku], unique: true, method: gin }`,
    /create_index\.method: is gin, but only btree/,
  ],
  [
    'create_index with a non-boolean unique',
    `create_index: { name: i1, columns: [sku], unique: "yes" }`,
    /create_index\.unique: must be true or false/,
  ],
  [
    'create_index with a bad where',
    `create_index: { name: i1, columns: [sku], where: "pricey > 0" }`,
    /create_index: PostgreSQL rejects it: .*pricey/,
  ],
  [
    'create_index including an unknown column',
    `create_index: { name: i1, columns: [sku], include: [nope] }`,
    /create_index\.include\[0\]: column "nope"/,
  ],
  [
    'create_index on a taken name',
    `create_index: { name: items_note_idx, columns: [sku] }`,
    /create_index\.name: index "items_note_idx" cannot be created: a relation of that name already exists/,
  ],
  [
    'create_index with an unknown field',
    `create_index: { name: i1, columns: [sku], concurrently: false }`,
    /create_index\.concurrently: is not a known field/,
  ],
  [
    'drop_index of an unknown index',
    `drop_index: { name: nope_idx }`,
    /drop_index\.name: index "nope_idx" does not exist/,
  ],
  [
    'drop_index of a constraint index',
    `drop_index: { name: items_sku_key }`,
    /drop_index\.name: index "items_sku_key" backs a constraint/,
  ],
  ['add_unique without columns', `add_unique: { name: u1 }`, /add_unique\.columns: is missing/],
  [
    'add_unique on an unknown column',
    `add_unique: { name: u1, columns: [nope] }`,
    /add_unique\.columns\[0\]: column "nope"/,
  ],
  [
    'add_unique on a taken name',
    `add_unique: { name: items_sku_key, columns: [note] }`,
    /add_unique\.name: .*already exists/,
  ],
  [
    'add_unique listing a column twice',
    `add_unique: { name: u1, columns: [sku, sku] }`,
    /add_unique\.columns: lists "sku" twice/,
  ],
  ['add_check without a check', `add_check: { name: c1 }`, /add_check\.check: is missing/],
  [
    'add_check with a semicolon',
    `add_check: { name: c1, check: "price > 0; DROP TABLE items" }`,
    /add_check\.check: a semicolon/,
  ],
  [
    'add_check naming an unknown column',
    `add_check: { name: c1, check: "cost > 0" }`,
    /add_check\.check: PostgreSQL rejects it: .*cost/,
  ],
  [
    'add_check on a taken name',
    `add_check: { name: items_sku_key, check: "price > 0" }`,
    /add_check\.name: constraint "items_sku_key" already exists/,
  ],
  [
    'add_foreign_key to an unknown table',
    `add_foreign_key: { name: f1, columns: [category_id], references: { table: cats, columns: [id] } }`,
    /add_foreign_key\.references\.table: table public\.cats does not exist/,
  ],
  [
    'add_foreign_key to an unknown column',
    `add_foreign_key: { name: f1, columns: [category_id], references: { table: categories, columns: [nope] } }`,
    /add_foreign_key\.references\.columns\[0\]: column "nope" does not exist in table public\.categories/,
  ],
  [
    'add_foreign_key to columns without a key',
    `add_foreign_key: { name: f1, columns: [note], references: { table: categories, columns: [label] } }`,
    /add_foreign_key\.references\.columns: table public\.categories has no primary key or unique constraint on \(label\)/,
  ],
  [
    'add_foreign_key with mismatched columns',
    `add_foreign_key: { name: f1, columns: [category_id, price], references: { table: categories, columns: [id] } }`,
    /add_foreign_key\.references\.columns: lists 1 columns for 2/,
  ],
  [
    'add_foreign_key with a bad on_delete',
    `add_foreign_key: { name: f1, columns: [category_id], references: { table: categories, columns: [id] }, on_delete: explode }`,
    /add_foreign_key\.on_delete: must be one of no_action/,
  ],
  [
    'add_foreign_key with a bad on_update',
    `add_foreign_key: { name: f1, columns: [category_id], references: { table: categories, columns: [id] }, on_update: "SET NULL" }`,
    /add_foreign_key\.on_update: must be one of/,
  ],
  [
    'add_foreign_key without references',
    `add_foreign_key: { name: f1, columns: [category_id] }`,
    /add_foreign_key\.references: is missing/,
  ],
  [
    'set_not_null with into but without up',
    `set_not_null: { column: note, into: note2 }`,
    /set_not_null\.up: is missing/,
  ],
  [
    'set_not_null on a NOT NULL column',
    `set_not_null: { column: sku, up: "'x'" }`,
    /set_not_null\.column: column "sku" is already NOT NULL/,
  ],
  [
    'set_not_null into a taken column',
    `set_not_null: { column: note, into: price, up: "''" }`,
    /set_not_null\.into: column "price" already exists/,
  ],
  [
    'set_not_null with a bad up',
    `set_not_null: { column: note, up: "nope()" }`,
    /set_not_null\.into\.up: PostgreSQL rejects it: .*nope/,
  ],
  ['drop_not_null without down', `drop_not_null: { column: sku }`, /drop_not_null\.down: is missing/],
  [
    'drop_not_null on a nullable column',
    `drop_not_null: { column: note, down: "''" }`,
    /drop_not_null\.column: column "note" is not NOT NULL/,
  ],
  [
    'set_default with a default of the wrong type',
    `set_default: { column: price, default: "'cheap'" }`,
    /set_default\.default: PostgreSQL rejects it: .*cheap/,
  ],
  [
    'set_default on an unknown column',
    `set_default: { column: nope, default: "1" }`,
    /set_default\.column: column "nope" does not exist/,
  ],
  ['set_default without a default', `set_default: { column: price }`, /set_default\.default: is missing/],
  [
    'drop_default on an unknown column',
    `drop_default: { column: nope }`,
    /drop_default\.column: column "nope" does not exist/,
  ],
  [
    'create_table with a bad type',
    `create_table: { name: t1, columns: [{ name: a, type: "int; DROP TABLE items" }], primary_key: [a] }`,
    /create_table\.columns\[0\]\.type: .* is not a type name/,
  ],
  [
    'create_table with an unknown type',
    `create_table: { name: t1, columns: [{ name: a, type: intt }], primary_key: [a] }`,
    /create_table: PostgreSQL rejects it: .*intt/,
  ],
  [
    'create_table with a primary key not a column',
    `create_table: { name: t1, columns: [{ name: a, type: int }], primary_key: [b] }`,
    /create_table\.primary_key\[0\]: "b" is not one of the table's columns/,
  ],
  [
    'create_table without a primary key',
    `create_table: { name: t1, columns: [{ name: a, type: int }] }`,
    /create_table\.primary_key: is missing/,
  ],
  [
    'create_table of an existing table',
    `create_table: { name: categories, columns: [{ name: a, type: int }], primary_key: [a] }`,
    /create_table\.name: table "categories" cannot be created/,
  ],
  [
    'create_table with a bad default',
    `create_table: { name: t1, columns: [{ name: a, type: int, default: "'x'" }], primary_key: [a] }`,
    /create_table: PostgreSQL rejects it/,
  ],
  [
    'drop_table of an unknown table',
    `drop_table: { name: nope }`,
    /drop_table\.name: table public\.nope does not exist/,
  ],
  ['drop_table of the spec table', `drop_table: { name: items }`, /drop_table\.name: is the spec's own table/],
  [
    'raw_sql with an empty up',
    `raw_sql: { up: "", down: "SELECT 1" }`,
    /raw_sql\.up: must be a non-empty SQL statement/,
  ],
  ['raw_sql without down', `raw_sql: { up: "SELECT 1" }`, /raw_sql\.down: is missing/],
  [
    'raw_sql with a bad contract',
    `raw_sql: { up: "SELECT 1", down: "SELECT 1", contract: [1] }`,
    /raw_sql\.contract\[0\]: must be a non-empty SQL statement/,
  ],
];

describe.each(cases)('%s', (_what, operation, message) => {
  it('exits 2 with one sentence naming the field and changes nothing', async () => {
    const before = await withClient(url, (c) => snapshotSchema(c));
    const r = await runCli(['expand', specFile(operation)], { DATABASE_URL: url });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^✘ invalid input: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(await withClient(url, (c) => snapshotSchema(c))).toEqual(before);
    expect((await sql(url, `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'tandem'`))[0].n).toBe(0);
  });
});

it('rename_table is refused (exit 1) with the reason', async () => {
  const r = await runCli(['validate', specFile(`rename_table: { from: items, to: products }`), '--offline']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/rename_table is refused: without views in front of the table/);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
});

describe('spec-wide checks', () => {
  const cases2: [string, string, RegExp][] = [
    [
      'two objects of one name',
      `create_index: { name: same_name, columns: [sku] }\n  - add_check: { name: same_name, check: "price > 0" }`,
      /operations\[1\]\.add_check\.name: "same_name" is also created by operations\[0\]\.create_index/,
    ],
    [
      'a check on a column the spec drops',
      `drop_column: { column: price, down: "0" }\n  - add_check: { name: c1, check: "price > 0 OR note IS NOT NULL" }`,
      /operations: constraint c1 on table (pg_temp_\d+\.)?items would depend on column "price", which this spec drops at contract/,
    ],
    [
      'an expression index on a column the spec drops',
      `drop_column: { column: note, down: "''" }\n  - create_index: { name: i1, columns: [{ expression: "lower(note)" }] }`,
      /operations: index (pg_temp_\d+\.)?i1 would depend on column "note"/,
    ],
  ];
  it.each(cases2)('%s exits 2 naming it', async (_what, operations, message) => {
    const r = await runCli(['expand', specFile(operations)], { DATABASE_URL: url });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect((await sql(url, `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'tandem'`))[0].n).toBe(0);
  });
});
