import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';
import { freshDatabase, sql } from './db';
import { runCli } from './cli-run';
import { repair } from '../executor';
import { failureEntries } from '../executor/repair';
import { resolveSpec } from '../phases/sql/spec';
import { parseSpec } from '../phases/sql/spec';

/**
 * `tandem repair` keeps the backfill's discipline (it never waits on a row lock while holding
 * others, so an app transaction is never its deadlock victim), and it trusts nothing it reads back
 * from the table: the app role can write `_tandem_sync_failed` and `_tandem_pending`.
 */
function specFile(name: string, yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-repair2-'));
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, yaml);
  return file;
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until the condition holds (no time limit is asserted; jest's timeout ends a test that never gets there). */
async function until(what: () => Promise<boolean>): Promise<void> {
  while (!(await what())) await sleep(50);
}

const SETUP = `CREATE TABLE rates (currency text PRIMARY KEY, per_eur numeric);
  CREATE FUNCTION eur(amount numeric, cur text) RETURNS numeric LANGUAGE plpgsql STABLE AS $$
    DECLARE r numeric; BEGIN SELECT per_eur INTO r FROM rates WHERE currency = cur; IF r IS NULL THEN RAISE EXCEPTION 'no rate for %', cur; END IF; RETURN amount / r; END $$;
  CREATE TABLE orders (id int PRIMARY KEY, amount numeric NOT NULL, currency text NOT NULL, note text);
  INSERT INTO rates VALUES ('EUR', 1);`;
const SPEC = `name: eur\ntable: orders\noperations:\n  - add_column: { name: amount_eur, type: numeric, up: "eur(amount, currency)" }\n`;

async function flaggedOrders(url: string, n: number): Promise<string> {
  await sql(url, SETUP);
  const file = specFile('eur', SPEC);
  const env = { DATABASE_URL: url };
  expect((await runCli(['expand', file], env)).code).toBe(0);
  expect((await runCli(['backfill', file], env)).code).toBe(0);
  // The app's writes go through although `up` raises on them: flagged, side old.
  await sql(url, `INSERT INTO orders (id, amount, currency) SELECT g, 10 * g, 'GBP' FROM generate_series(1, ${n}) g`);
  return file;
}

it('an app transaction holding a flagged row while repair runs is never made to wait on repair or chosen as a deadlock victim', async () => {
  const url = await freshDatabase('repairlocks');
  const file = await flaggedOrders(url, 5);
  await sql(url, `INSERT INTO rates VALUES ('GBP', 0.5)`);
  const app = new Client({ connectionString: url });
  await app.connect();
  try {
    await app.query(`BEGIN`);
    await app.query(`UPDATE orders SET note = 'packing' WHERE id = 2`);
    const flagged = async () =>
      (await sql(url, `SELECT count(*)::int AS n FROM orders WHERE _tandem_pending IS NULL`))[0].n;
    const repairWaits = async () =>
      (
        await sql(
          url,
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1`,
          [(app as any).processID],
        )
      )[0].n > 0;
    let finished = false;
    const running = runCli(['repair', file, '--json'], { DATABASE_URL: url }).finally(() => (finished = true));
    // Repair either waits on row 2 while holding the rows before it (what it must never do), or has
    // repaired every row but the one the app holds.
    await until(async () => finished || (await repairWaits()) || (await flagged()) === 1);
    // The app, still holding row 2, writes row 1: it must not wait behind repair nor die in a deadlock.
    await app.query(`UPDATE orders SET note = 'shipped' WHERE id = 1`);
    await app.query(`COMMIT`);
    const result = await running;
    expect(result.code).toBe(0);
    expect(lastJson(result.stdout)).toMatchObject({ repaired: 5, stillFailing: [] });
    expect(await sql(url, `SELECT id, amount_eur::int AS eur, note FROM orders ORDER BY id`)).toEqual([
      { id: 1, eur: 20, note: 'shipped' },
      { id: 2, eur: 40, note: 'packing' },
      { id: 3, eur: 60, note: null },
      { id: 4, eur: 80, note: null },
      { id: 5, eur: 100, note: null },
    ]);
  } finally {
    await app.query('ROLLBACK').catch(() => undefined);
    await app.end();
  }
});

it('failure records the app role forged (garbage, an operation index out of range, no side, none at all) are named and left alone; the rest is repaired', async () => {
  const url = await freshDatabase('repairforged');
  const file = await flaggedOrders(url, 5);
  await sql(url, `INSERT INTO rates VALUES ('GBP', 0.5)`);
  await sql(
    url,
    `UPDATE orders SET _tandem_sync_failed = '"junk"' WHERE id = 1;
     UPDATE orders SET _tandem_sync_failed = '{"7": {"side": "old"}}' WHERE id = 2;
     UPDATE orders SET _tandem_sync_failed = '{"0": {"side": "sideways"}}' WHERE id = 3;
     UPDATE orders SET _tandem_sync_failed = NULL WHERE id = 4;`,
  );
  const result = await runCli(['repair', file, '--json'], { DATABASE_URL: url });
  expect(result.code).toBe(1);
  const out = lastJson(result.stdout);
  expect(out.repaired).toBe(1);
  expect(out.stillFailing.map((f: any) => [f.key, f.side])).toEqual([
    ['1', 'unknown'],
    ['2', 'unknown'],
    ['3', 'unknown'],
    ['4', 'unknown'],
  ]);
  expect(out.stillFailing[0].error).toMatch(/not repaired: its failure record "junk" is not an object/);
  expect(out.stillFailing[1].error).toMatch(/names operation "7", which this spec does not have \(1 operations\)/);
  expect(out.stillFailing[2].error).toMatch(/gives operation 0 the side "sideways", neither old nor new/);
  expect(out.stillFailing[3].error).toMatch(/flagged \(_tandem_pending NULL\) but holds no failure record/);
  expect(out.message).toMatch(/4 not repaired \(e\.g\. key 1: its failure record "junk" is not an object/);
  // The rows it did not trust are untouched; the one it trusted is repaired.
  expect(
    await sql(url, `SELECT id, amount_eur::int AS eur, _tandem_pending AS pending FROM orders ORDER BY id`),
  ).toEqual([
    { id: 1, eur: null, pending: null },
    { id: 2, eur: null, pending: null },
    { id: 3, eur: null, pending: null },
    { id: 4, eur: null, pending: null },
    { id: 5, eur: 100, pending: false },
  ]);
  // The way out it names: rewrite the side to keep and reset the record; the trigger derives the other.
  expect(out.stillFailing[0].error).toMatch(/SET column = column, _tandem_sync_failed = NULL, _tandem_pending = false/);
  await sql(
    url,
    `UPDATE orders SET amount = amount, _tandem_sync_failed = NULL, _tandem_pending = false WHERE id <= 4`,
  );
  expect((await runCli(['verify', file], { DATABASE_URL: url })).code).toBe(0);
});

it('a failure record naming a side the operation derives nothing from (side new of an add_column) is named and left alone, not counted as repaired', async () => {
  const url = await freshDatabase('repairnoside');
  const file = await flaggedOrders(url, 2);
  await sql(url, `INSERT INTO rates VALUES ('GBP', 0.5)`);
  await sql(url, `UPDATE orders SET _tandem_sync_failed = '{"0": {"side": "new"}}' WHERE id = 1`);
  const result = await runCli(['repair', file, '--json'], { DATABASE_URL: url });
  const out = lastJson(result.stdout);
  expect(out.repaired).toBe(1);
  expect(out.stillFailing.map((f: any) => [f.key, f.side])).toEqual([['1', 'unknown']]);
  expect(out.stillFailing[0].error).toMatch(
    /not repaired: its failure record gives operation 0 the side new, from which add_column amount_eur derives nothing/,
  );
  expect(result.code).toBe(1);
  expect(
    await sql(url, `SELECT id, amount_eur::int AS eur, _tandem_pending AS pending FROM orders ORDER BY id`),
  ).toEqual([
    { id: 1, eur: null, pending: null },
    { id: 2, eur: 40, pending: false },
  ]);
});

it('repair waits for a table lock no longer than lock_timeout at a time, retries, and gives up at the deadline naming the table, nothing half done', async () => {
  const url = await freshDatabase('repairtablelock');
  await flaggedOrders(url, 3);
  await sql(url, `INSERT INTO rates VALUES ('GBP', 0.5)`);
  const holder = new Client({ connectionString: url });
  await holder.connect();
  try {
    // SHARE lets repair read and lock its rows, not update them.
    await holder.query(`BEGIN; LOCK TABLE orders IN SHARE MODE`);
    const run = repair(parseSpec(SPEC, 'eur.yaml'), { databaseUrl: url, lockTimeoutMs: 200, ddlDeadlineMs: 1500 });
    await expect(run).rejects.toThrow(/^gave up after \d+ attempts to lock public\.orders/);
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    await holder.end();
  }
  expect(await sql(url, `SELECT count(*)::int AS n FROM orders WHERE _tandem_pending IS NULL`)).toEqual([{ n: 3 }]);
});

describe('failureEntries: a record read back from the table is trusted only when it is one the trigger writes', () => {
  const table = {
    oid: 1,
    schema: 'public',
    name: 'orders',
    columns: [
      { name: 'id', type: 'integer', notNull: true },
      { name: 'amount', type: 'numeric', notNull: true },
      { name: 'currency', type: 'text', notNull: true },
    ],
    primaryKey: [{ name: 'id', type: 'integer' }],
  } as any;
  const resolved = resolveSpec(parseSpec(SPEC, 'eur.yaml'), table);
  it.each([
    [{ '0': { side: 'old', error: 'x' } }, [{ index: 0, side: 'old' }]],
    [{ '0': { side: 'new' } }, /the side new, from which add_column amount_eur derives nothing/],
    [null, /holds no failure record/],
    ['junk', /is not an object/],
    [[{ side: 'old' }], /is not an object/],
    [{}, /is empty/],
    [{ '1': { side: 'old' } }, /names operation "1", which this spec does not have/],
    [{ '00': { side: 'old' } }, /names operation "00"/],
    [{ '-1': { side: 'old' } }, /names operation "-1"/],
    [{ '0': { error: 'x' } }, /the side null, neither old nor new/],
    [{ '0': 'old' }, /the side null, neither old nor new/],
  ])('%j', (record, expected) => {
    const got = failureEntries(resolved, record);
    if (expected instanceof RegExp) expect(got).toMatch(expected);
    else expect(got).toEqual(expected);
  });
});
