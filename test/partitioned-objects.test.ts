import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backfill, contract, expand, rollback, verify } from '../executor';
import { partitionIndexName } from '../executor/partitioned-index';
import { parseSpec } from '../phases/sql/spec';
import { runCli } from './cli-run';
import { freshDatabase, sql, withClient } from './db';
import { runObjectSteps } from '../executor/object-steps';
import { objectSteps } from '../phases/sql/plan';

/**
 * Partitioned tables and indexes other objects depend on: a spec passes validate only if every
 * step can complete. What PostgreSQL allows online is done its way (a partitioned index built per
 * partition concurrently and attached to an index ON ONLY the table; a partitioned index dropped
 * in a short bounded transaction); what it does not is refused at validate, naming why.
 */
const SETUP = `
  CREATE TABLE events (id int NOT NULL, kind text, note text, PRIMARY KEY (id)) PARTITION BY RANGE (id);
  CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (1000);
  CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (1000) TO (2000) PARTITION BY HASH (id);
  CREATE TABLE events_2a PARTITION OF events_2 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
  CREATE TABLE events_2b PARTITION OF events_2 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
  INSERT INTO events SELECT g, 'k' || (g % 7), 'n' FROM generate_series(1, 1999) g;
  CREATE TABLE kinds (kind text PRIMARY KEY);`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-partitioned-'));
let n = 0;
function specFile(operation: string, table = 'events'): string {
  const file = path.join(dir, `s${n++}.yaml`);
  fs.writeFileSync(file, `name: partitioned-${n}\ntable: ${table}\noperations:\n  - ${operation}\n`);
  return file;
}
const load = (file: string) => parseSpec(fs.readFileSync(file, 'utf8'), file);

async function indexes(
  url: string,
  like: string,
): Promise<{ name: string; on: string; valid: boolean; parent: string | null }[]> {
  return sql(
    url,
    `SELECT c.relname AS name, i.indrelid::regclass::text AS on, i.indisvalid AS valid,
            (SELECT p.relname FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent WHERE h.inhrelid = c.oid) AS parent
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE $1 ORDER BY 2`,
    [like],
  );
}

describe('indexes on a partitioned table', () => {
  it('create_index: built per partition concurrently (sub-partitions too), attached to an index ON ONLY the table, valid; rollback drops them all', async () => {
    const url = await freshDatabase('partidx');
    await sql(url, SETUP);
    const file = specFile('create_index: { name: events_kind_idx, columns: [kind] }');
    expect((await runCli(['validate', file], { DATABASE_URL: url })).code).toBe(0);
    const spec = load(file);
    const o = { databaseUrl: url };
    expect((await expand(spec, o)).step).toBe('expanded');
    const oid = async (t: string) => Number((await sql(url, `SELECT $1::regclass::oid::int8 AS o`, [t]))[0].o);
    expect(await indexes(url, 'events_kind_idx%')).toEqual([
      { name: 'events_kind_idx', on: 'events', valid: true, parent: null },
      {
        name: partitionIndexName('events_kind_idx', await oid('events_1')),
        on: 'events_1',
        valid: true,
        parent: 'events_kind_idx',
      },
      {
        name: partitionIndexName('events_kind_idx', await oid('events_2')),
        on: 'events_2',
        valid: true,
        parent: 'events_kind_idx',
      },
      {
        name: partitionIndexName('events_kind_idx', await oid('events_2a')),
        on: 'events_2a',
        valid: true,
        parent: partitionIndexName('events_kind_idx', await oid('events_2')),
      },
      {
        name: partitionIndexName('events_kind_idx', await oid('events_2b')),
        on: 'events_2b',
        valid: true,
        parent: partitionIndexName('events_kind_idx', await oid('events_2')),
      },
    ]);
    await backfill(spec, o);
    expect((await verify(spec, o)).ok).toBe(true);
    await rollback(spec, o);
    expect(await indexes(url, 'events_kind_idx%')).toEqual([]);
  });

  it('create_index: a 63-byte index name sharing its first 56 bytes with an index an earlier migration built gets partition indexes of its own; its rollback leaves the earlier one whole', async () => {
    const url = await freshDatabase('partidxlong');
    await sql(url, SETUP);
    const base = 'x'.repeat(60);
    const first = specFile(`create_index: { name: ${base}_k1, columns: [kind] }`);
    const second = specFile(`create_index: { name: ${base}_n1, columns: [note] }`);
    const o = { databaseUrl: url };
    expect((await expand(load(first), o)).step).toBe('expanded');
    await backfill(load(first), o);
    expect((await contract(load(first), o)).step).toBe('contracted');
    expect((await expand(load(second), o)).step).toBe('expanded');
    const valid = async () =>
      sql(
        url,
        `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'xxx%' AND i.indrelid = 'events'::regclass ORDER BY 1`,
      );
    expect(await valid()).toEqual([
      { name: `${base}_k1`, valid: true },
      { name: `${base}_n1`, valid: true },
    ]);
    // Each of the 4 partitions (events_2 and its 2 sub-partitions included) has an index of each, attached under its own parent.
    const attached = `SELECT count(*)::int AS n FROM pg_inherits h JOIN pg_index i ON i.indexrelid = h.inhrelid JOIN pg_class p ON p.oid = h.inhparent WHERE p.relname LIKE 'xxx%'`;
    expect(await sql(url, attached)).toEqual([{ n: 8 }]);
    await rollback(load(second), o);
    expect(await valid()).toEqual([{ name: `${base}_k1`, valid: true }]);
    expect(await sql(url, attached)).toEqual([{ n: 4 }]);
  });

  it('create_index meeting a row its expression raises on in one partition: everything it built is dropped, and the error says so', async () => {
    const url = await freshDatabase('partidxraise');
    await sql(url, SETUP);
    const file = specFile('create_index: { name: events_inv_idx, columns: [{ expression: "100 / (id - 1500)" }] }');
    const r = await runCli(['expand', file, '--json'], { DATABASE_URL: url });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.message).toMatch(
      /division by zero; what it built \(the partitioned index and its partitions' indexes\) was dropped/,
    );
    expect(await indexes(url, 'events_inv_idx%')).toEqual([]);
  });

  it('create_index: a build killed half-way (an INVALID partition index, partitions not attached) is finished by the next expand', async () => {
    const url = await freshDatabase('partidxresume');
    await sql(url, SETUP);
    const spec = load(specFile('create_index: { name: events_note_idx, columns: [note] }'));
    const o = { databaseUrl: url };
    await expand(spec, o);
    // As if killed: the partitions' indexes detached and dropped, one left INVALID.
    const p1 = partitionIndexName(
      'events_note_idx',
      Number((await sql(url, `SELECT 'events_1'::regclass::oid::int8 AS o`))[0].o),
    );
    await sql(url, `DROP INDEX events_note_idx`);
    await sql(
      url,
      `CREATE INDEX events_note_idx ON ONLY events (note); CREATE INDEX ${p1} ON events_1 (note); UPDATE pg_index SET indisvalid = false WHERE indexrelid = '${p1}'::regclass`,
    );
    const again = await expand(spec, o);
    expect(again).toMatchObject({ changed: true });
    expect((await indexes(url, 'events_note_idx%')).every((i) => i.valid)).toBe(true);
    expect((await indexes(url, 'events_note_idx%')).length).toBe(5);
  });

  it('create_index unique: refused at validate unless it contains the partition key of every level; with it, contract builds it per partition', async () => {
    const url = await freshDatabase('partuniq');
    await sql(url, SETUP);
    const bad = await runCli(
      ['validate', specFile('create_index: { name: events_kind_key, columns: [kind], unique: true }'), '--json'],
      { DATABASE_URL: url },
    );
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.message).toMatch(
      /operations\[0\]\.create_index\.columns: a unique index on the partitioned table public\.events must contain every partition key column/,
    );
    const spec = load(specFile('create_index: { name: events_id_kind_key, columns: [id, kind], unique: true }'));
    const o = { databaseUrl: url };
    await expand(spec, o);
    await backfill(spec, o);
    expect((await contract(spec, o)).step).toBe('contracted');
    expect((await indexes(url, 'events_id_kind_key%')).map((i) => i.valid)).toEqual([true, true, true, true, true]);
  });

  it('create_index unique meeting duplicates in one partition: everything it built is dropped (it would refuse writes) and contract is refused, naming the fix', async () => {
    const url = await freshDatabase('partuniqdup');
    await sql(
      url,
      `CREATE TABLE accounts (id int NOT NULL, region text NOT NULL, email text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
       CREATE TABLE accounts_eu PARTITION OF accounts FOR VALUES IN ('eu');
       CREATE TABLE accounts_us PARTITION OF accounts FOR VALUES IN ('us');
       INSERT INTO accounts VALUES (1, 'eu', 'a@x'), (2, 'us', 'a@x'), (3, 'us', 'b@x');`,
    );
    const spec = load(
      specFile('create_index: { name: accounts_region_email_key, columns: [region, email], unique: true }', 'accounts'),
    );
    const o = { databaseUrl: url };
    await expand(spec, o);
    await backfill(spec, o);
    // A duplicate that slips in after verify passed: the build itself meets it.
    await sql(url, `INSERT INTO accounts VALUES (4, 'us', 'b@x')`);
    const resolved = (await sql(url, `SELECT resolved FROM tandem.migrations WHERE name = $1`, [spec.name]))[0]
      .resolved;
    await expect(
      withClient(url, (c) =>
        runObjectSteps(
          c,
          'contract',
          { oid: resolved.table.oid, label: 'public.accounts' },
          objectSteps(resolved, 'beforeContract'),
          o,
        ),
      ),
    ).rejects.toThrow(/contract refused: index accounts_region_email_key cannot be built: rows share a key/);
    expect(await indexes(url, 'accounts_region_email_key%')).toEqual([]);
    // The old versions' duplicate writes still succeed, in every partition.
    await sql(url, `INSERT INTO accounts VALUES (5, 'eu', 'a@x'), (6, 'us', 'b@x')`);
    expect(await sql(url, `SELECT step FROM tandem.migrations`)).toEqual([{ step: 'backfilled' }]);
  });

  it('drop_index of a partitioned index: contract drops it (no DROP INDEX CONCURRENTLY for it) and a re-run has nothing left to do', async () => {
    const url = await freshDatabase('partdrop');
    await sql(url, SETUP);
    await sql(url, `CREATE INDEX events_note_old ON events (note)`);
    const spec = load(specFile('drop_index: { name: events_note_old }'));
    const o = { databaseUrl: url };
    await expand(spec, o);
    await backfill(spec, o);
    expect((await contract(spec, o)).step).toBe('contracted');
    expect(await indexes(url, 'events_note_old%')).toEqual([]);
    expect(await indexes(url, 'events_%note%')).toEqual([]);
    expect((await contract(spec, o)).changed).toBe(false);
  });
});

describe('refused at validate, naming why', () => {
  let url: string;
  beforeAll(async () => {
    url = await freshDatabase('partrefuse');
    await sql(url, SETUP);
    await sql(
      url,
      `CREATE TABLE plain (id int PRIMARY KEY, code text, event_id int);
      CREATE UNIQUE INDEX plain_code_key ON plain (code);
      CREATE TABLE refs (id int PRIMARY KEY, code text REFERENCES plain (code));`,
    );
  });

  it.each([
    [
      'add_unique on a partitioned table',
      'add_unique: { name: events_kind_u, columns: [id, kind] }',
      'events',
      /public\.events is partitioned: PostgreSQL 15 cannot attach a unique constraint to a partitioned table USING INDEX.*use create_index with unique: true/,
    ],
    [
      'create_index whose expression names the table',
      'create_index: { name: events_lower_kind, columns: [{ expression: "lower(events.kind)" }] }',
      'events',
      /public\.events is partitioned: an index expression that names the table \(events\.column\) cannot be built on its partitions/,
    ],
    [
      'add_foreign_key from a partitioned table',
      'add_foreign_key: { name: events_kind_fk, columns: [kind], references: { table: kinds, columns: [kind] } }',
      'events',
      /public\.events is partitioned: PostgreSQL 15 cannot add a NOT VALID foreign key to a partitioned table/,
    ],
    [
      'drop_index of a unique index a foreign key references through',
      'drop_index: { name: plain_code_key }',
      'plain',
      /index "plain_code_key" is the unique index a foreign key references through/,
    ],
  ])('%s: exit 2', async (_what, operation, table, why) => {
    const r = await runCli(['validate', specFile(operation, table), '--json'], { DATABASE_URL: url });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toMatch(why);
    expect(await sql(url, `SELECT 1 FROM pg_namespace WHERE nspname = 'tandem'`)).toEqual([]);
  });

  it('a foreign key into a partitioned table, and a check on one, still complete', async () => {
    const db = await freshDatabase('partok');
    await sql(db, SETUP);
    await sql(db, `CREATE TABLE plain (id int PRIMARY KEY, event_id int); INSERT INTO plain VALUES (1, 5)`);
    const fk = load(
      specFile(
        'add_foreign_key: { name: plain_event_fk, columns: [event_id], references: { table: events, columns: [id] } }',
        'plain',
      ),
    );
    const check = load(specFile(`add_check: { name: events_kind_set, check: "kind IS NOT NULL" }`));
    for (const spec of [fk, check]) {
      const o = { databaseUrl: db };
      await expand(spec, o);
      await backfill(spec, o);
      expect((await contract(spec, o)).step).toBe('contracted');
    }
    expect(
      await sql(
        db,
        `SELECT DISTINCT conname, convalidated FROM pg_constraint WHERE conname IN ('plain_event_fk', 'events_kind_set') ORDER BY 1`,
      ),
    ).toEqual([
      { conname: 'events_kind_set', convalidated: true },
      { conname: 'plain_event_fk', convalidated: true },
    ]);
  });
});

describe('a foreign key that comes after validate', () => {
  it('drop_index: contract refuses before its transaction when a foreign key now references through the index, nothing dropped', async () => {
    const url = await freshDatabase('partfklate');
    await sql(
      url,
      `CREATE TABLE plain (id int PRIMARY KEY, code text); CREATE UNIQUE INDEX plain_code_key ON plain (code); INSERT INTO plain VALUES (1, 'a')`,
    );
    const spec = load(specFile('drop_index: { name: plain_code_key }', 'plain'));
    const o = { databaseUrl: url };
    await expand(spec, o);
    await backfill(spec, o);
    await sql(url, `CREATE TABLE refs (id int PRIMARY KEY, code text REFERENCES plain (code))`);
    await expect(contract(spec, o)).rejects.toThrow(
      /index "plain_code_key" is the unique index a foreign key references through.*refs_code_fkey on refs/,
    );
    expect(await sql(url, `SELECT step FROM tandem.migrations`)).toEqual([{ step: 'backfilled' }]);
    expect((await indexes(url, 'plain_code_key')).length).toBe(1);
  });
});
