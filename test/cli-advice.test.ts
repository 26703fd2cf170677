import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backfill, expand } from '../executor';
import { describeBlocker } from '../executor/ddl-transaction';
import { freshDatabase, sql } from './db';
import { runCli } from './cli-run';
import { createCustomers, splitSpec, SPLIT_SPEC_PATH } from './fixtures';

/**
 * A refusal names the cause it found and the command or change that fixes THAT cause. Repair is
 * named only for what repair fixes (rows whose sync raised in the trigger).
 */

const MIGRATIONS = path.join(__dirname, '..', 'migrations');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-advice-'));
const ITEMS = `CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL, price int, note text);
               INSERT INTO items VALUES (1, 'A-1', 10, NULL), (2, 'B-2', 20, 'two'), (3, 'c-3', 30, NULL);`;

async function refusal(url: string, spec: string): Promise<string> {
  const r = await runCli(['contract', spec], { DATABASE_URL: url });
  expect(r.code).toBe(1);
  return r.stderr.trim();
}

describe('contract refusals name the fix of the cause they found', () => {
  it('rows not backfilled yet: run the backfill, not repair', async () => {
    const url = await freshDatabase('adv_pending');
    await createCustomers(url, 30);
    await expand(splitSpec(), { databaseUrl: url });
    const text = await refusal(url, SPLIT_SPEC_PATH);
    expect(text).toMatch(
      /30 rows not backfilled yet.*run tandem backfill SPEC for the 30 rows not backfilled yet \(e\.g\. keys 1, 2, 3, 4, 5\)/,
    );
    expect(text).not.toMatch(/repair/);
  });

  it('a row written past the sync trigger: rewrite its kept side, since repair does not touch it', async () => {
    const url = await freshDatabase('adv_past');
    await createCustomers(url, 5);
    await expand(splitSpec(), { databaseUrl: url });
    await backfill(splitSpec(), { databaseUrl: url });
    await sql(
      url,
      `BEGIN; SET LOCAL tandem.backfill = 'on'; UPDATE customers SET first_name = 'Someone' WHERE id = 2; COMMIT;`,
    );
    const text = await refusal(url, SPLIT_SPEC_PATH);
    expect(text).toMatch(
      /rows inconsistent without a recorded failure \(e\.g\. keys 2\) were written past the sync trigger, which tandem repair does not touch; rewrite the side to keep/,
    );
    expect(text).not.toMatch(/run tandem repair|tandem backfill/);
  });

  it('a check violation: change those rows, naming them', async () => {
    const url = await freshDatabase('adv_check');
    await sql(url, ITEMS);
    const spec = path.join(MIGRATIONS, 'add-check.yaml');
    expect((await runCli(['expand', spec], { DATABASE_URL: url })).code).toBe(0);
    await sql(url, `INSERT INTO items VALUES (4, 'D-4', -5, NULL)`);
    const text = await refusal(url, spec);
    expect(text).toMatch(
      /add_check items_price_positive: rows that break the check \(e\.g\. keys 4\): change the rows that break check items_price_positive/,
    );
    expect(text).not.toMatch(/repair|backfill/);
  });

  it('duplicate keys for a unique index: make the keys unique, naming the rows', async () => {
    const url = await freshDatabase('adv_dup');
    await sql(url, ITEMS);
    const spec = path.join(dir, 'unique.yaml');
    fs.writeFileSync(
      spec,
      'name: unique-index\ntable: items\noperations:\n  - create_index: { name: items_sku_key, columns: [sku], unique: true }\n',
    );
    expect((await runCli(['expand', spec], { DATABASE_URL: url })).code).toBe(0);
    await sql(url, `INSERT INTO items VALUES (4, 'A-1', 1, NULL)`);
    const text = await refusal(url, spec);
    expect(text).toMatch(
      /rows with a duplicate key \(e\.g\. keys 1, 4\): change the rows with a duplicate key so each key is unique/,
    );
    expect(text).not.toMatch(/repair|backfill/);
  });

  it('a missing index: run expand again, which builds it', async () => {
    const url = await freshDatabase('adv_index');
    await sql(url, ITEMS);
    const spec = path.join(MIGRATIONS, 'create-index.yaml');
    expect((await runCli(['expand', spec], { DATABASE_URL: url })).code).toBe(0);
    await sql(url, `DROP INDEX items_sku_lower_idx`);
    const text = await refusal(url, spec);
    expect(text).toMatch(/run tandem expand SPEC again: it builds index items_sku_lower_idx concurrently/);
    expect(text).not.toMatch(/repair|backfill|e\.g\. keys/);
  });
});

describe('messages that say what is true', () => {
  it('repair before the backfill: the rows are not backfilled yet (run backfill), not "written past the sync trigger"', async () => {
    const url = await freshDatabase('adv_repair');
    await createCustomers(url, 12);
    await expand(splitSpec(), { databaseUrl: url });
    const r = await runCli(['repair', SPLIT_SPEC_PATH], { DATABASE_URL: url });
    expect(r.stdout).toMatch(/12 rows are not backfilled yet \(e\.g\. keys 1, 2, 3, 4, 5\): run tandem backfill SPEC/);
    expect(r.stdout).not.toMatch(/written past the sync trigger|SET column = column/);
  });

  it('status while expand\'s index is not built: not "every row backfilled" alone, but expand again', async () => {
    const url = await freshDatabase('adv_status');
    await sql(url, ITEMS);
    const spec = path.join(MIGRATIONS, 'create-index.yaml');
    expect((await runCli(['expand', spec], { DATABASE_URL: url })).code).toBe(0);
    await sql(url, `DROP INDEX items_sku_lower_idx`);
    const r = await runCli(['status', spec, '--json'], { DATABASE_URL: url });
    expect(JSON.parse(r.stdout).message).toMatch(
      /index items_sku_lower_idx is not built \(an interrupted build\): run tandem expand SPEC again/,
    );
  });
});

describe('no unfinished sentences', () => {
  it('a second backfill says "already backfilled", without "(0 rows/s)"', async () => {
    const url = await freshDatabase('adv_rate');
    await createCustomers(url, 5);
    await expand(splitSpec(), { databaseUrl: url });
    expect((await runCli(['backfill', SPLIT_SPEC_PATH], { DATABASE_URL: url })).stdout).toMatch(
      /backfilled 5 rows of public\.customers in \d+ batches( \(\d+ rows\/s\))?\n$/,
    );
    const again = await runCli(['backfill', SPLIT_SPEC_PATH], { DATABASE_URL: url });
    expect(again.stdout).toBe('✔ already backfilled\n');
  });

  it('contract of a spec that drops no column says what it did, not "no columns, the sync trigger and function"', async () => {
    const url = await freshDatabase('adv_nocols');
    await sql(url, ITEMS);
    const spec = path.join(MIGRATIONS, 'create-index.yaml');
    const expanded = await runCli(['expand', spec], { DATABASE_URL: url });
    expect(expanded.code).toBe(0);
    expect(expanded.stderr).toMatch(/^expanding public\.items$/m); // not "expanding public.items: " and an empty list
    const r = await runCli(['contract', spec], { DATABASE_URL: url });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/contracted public\.items: create_index items_sku_lower_idx/);
    expect(r.stdout).not.toMatch(/sync trigger/);
    expect(r.stdout).not.toMatch(/no columns/);
  });

  it.each([
    [
      { pid: 7, app: 'psql', state: 'idle in transaction', age: '00:00:42' },
      'pid 7 (psql), idle in transaction, transaction open for 00:00:42',
    ],
    [{ pid: 7, app: 'psql', state: null, age: null }, 'pid 7 (psql), its state not visible to this role'],
    [{ pid: 7, app: '', state: 'active', age: null }, 'pid 7, active, no transaction start known'],
  ])('a lock holder %j reads as a sentence', (blocker, text) => {
    expect(describeBlocker(blocker)).toBe(text);
  });
});
