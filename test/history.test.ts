/**
 * `tandem status` without a spec: every migration the database records, with who ran it, on a
 * real PostgreSQL with several migrations: one contracted, one interrupted mid-backfill, one
 * rolled back, and one recorded before the actor columns existed.
 */
import { backfill, contract, expand, history, rollback, verify } from '../executor';
import { STATE_BOOTSTRAP } from '../executor/state';
import { parseSpec } from '../phases/sql/spec';
import { runCli } from './cli-run';
import { freshDatabase, sql } from './db';
import { createCustomers, splitSpec } from './fixtures';

const totalCents = parseSpec(`name: total-cents
table: orders
operations:
  - change_type: { column: total, into: total_cents, type: bigint, up: "round(total * 100)::bigint", down: "(total_cents / 100.0)::numeric(12,2)" }
`);
const productCode = parseSpec(`name: product-code
table: products
operations:
  - rename_column: { from: sku, to: code }
`);

async function as<T>(actor: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.TANDEM_ACTOR;
  process.env.TANDEM_ACTOR = actor;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.TANDEM_ACTOR;
    else process.env.TANDEM_ACTOR = before;
  }
}

let url: string;
let dbUser: string;

beforeAll(async () => {
  url = await freshDatabase('history');
  await createCustomers(url, 120);
  await sql(
    url,
    `CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total numeric(12,2) NOT NULL);
                  INSERT INTO orders (total) SELECT g * 1.25 FROM generate_series(1, 300) g;
                  CREATE TABLE products (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sku text);
                  INSERT INTO products (sku) VALUES ('a'), ('b');`,
  );
  dbUser = (await sql(url, 'SELECT session_user::text AS u'))[0].u;
  const o = { databaseUrl: url };
  await as('alice@laptop', async () => {
    await expand(splitSpec(), o);
    await backfill(splitSpec(), { ...o, batchSize: 50 });
  });
  await as('deploy-pipeline #4711', async () => {
    expect((await verify(splitSpec(), o)).ok).toBe(true);
    await contract(splitSpec(), o);
  });
  // Interrupted mid-backfill: two batches of 40 out of 300 rows, then nothing.
  await as('bob-ci', async () => {
    await expand(totalCents, o);
    const r = await backfill(totalCents, { ...o, batchSize: 40, maxBatches: 2 });
    expect(r.complete).toBe(false);
  });
  await as('carol', async () => {
    await expand(productCode, o);
    await rollback(productCode, o);
  });
});

describe('history of the migrations a database records', () => {
  it('lists every migration oldest first, with table, step, times, rows backfilled and who ran it', async () => {
    const report = await history({ databaseUrl: url });
    expect(report.migrations.map((m) => [m.name, m.table, m.step])).toEqual([
      ['split-full-name', 'public.customers', 'contracted'],
      ['total-cents', 'public.orders', 'backfilling'],
      ['product-code', 'public.products', 'rolled_back'],
    ]);
    const [split, cents, product] = report.migrations;
    expect(split).toMatchObject({
      rowsBackfilled: 120,
      startedBy: { actor: 'alice@laptop', dbUser },
      finishedBy: { actor: 'deploy-pipeline #4711', dbUser },
    });
    expect(Date.parse(split.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(split.startedAt));
    expect(cents).toMatchObject({
      rowsBackfilled: 80,
      finishedAt: null,
      finishedBy: null,
      startedBy: { actor: 'bob-ci' },
      lastBy: { actor: 'bob-ci' },
    });
    expect(product).toMatchObject({ finishedBy: { actor: 'carol' }, rowsBackfilled: 0 });
    expect(report.message).toBe('3 migration(s) recorded; in progress: total-cents (backfilling)');
  });

  it('who ran it is the database session, whatever the actor claims: SET ROLE shows as "<login> as <role>"', async () => {
    await sql(
      url,
      `CREATE ROLE history_ops NOLOGIN; GRANT history_ops TO CURRENT_USER; GRANT USAGE ON SCHEMA tandem TO history_ops; GRANT SELECT, UPDATE ON tandem.migrations TO history_ops`,
    );
    await sql(
      url,
      `SET ROLE history_ops; UPDATE tandem.migrations SET updated_at = now() WHERE name = 'product-code'; RESET ROLE`,
    );
    const product = (await history({ databaseUrl: url })).migrations[2];
    expect(product.lastBy).toEqual({ actor: null, dbUser: `${dbUser} as history_ops` });
    expect(product.finishedBy).toEqual({ actor: 'carol', dbUser });
  });

  it('tandem status without a spec prints the same, as one JSON object with --json', async () => {
    const r = await runCli(['status', '--json'], { DATABASE_URL: url });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out.migrations.map((m: any) => `${m.name}:${m.step}:${m.rowsBackfilled}`)).toEqual([
      'split-full-name:contracted:120',
      'total-cents:backfilling:80',
      'product-code:rolled_back:0',
    ]);
    const text = await runCli(['status'], { DATABASE_URL: url });
    expect(text.stdout).toContain('total-cents on public.orders: backfilling; 80 rows backfilled so far');
    // a rolled-back migration is rolled back, not "0 rows backfilled"
    expect(text.stdout).toMatch(/product-code on public\.\w+: rolled back\n/);
    expect(text.stdout).toContain('not finished (last change');
    expect(text.stdout).toMatch(
      /split-full-name on public\.customers: contracted[\s\S]*started .* by alice@laptop, db /,
    );
  });

  it('a database no migration ever ran on has an empty history, not an error', async () => {
    const empty = await freshDatabase('history_empty');
    expect(await history({ databaseUrl: empty })).toEqual({
      migrations: [],
      message: 'no migration recorded: this database has never been expanded by tandem',
    });
  });
});

describe('a state table from before the actor columns', () => {
  it('is read without them, and the next expand adds them without touching the old records', async () => {
    const old = await freshDatabase('history_old');
    await createCustomers(old, 10);
    await sql(
      old,
      STATE_BOOTSTRAP.slice(1)
        .map((s) => s.sql)
        .join(';\n'),
    );
    await sql(
      old,
      `INSERT INTO tandem.migrations (name, table_schema, table_name, spec_hash, step, resolved, backfill_done, started_at, updated_at)
                    VALUES ('legacy-one', 'public', 'customers', 'x', 'contracted', '{}', 7, '2025-01-01T00:00:00Z', '2025-01-02T00:00:00Z')`,
    );
    const before = await history({ databaseUrl: old });
    expect(before.migrations).toEqual([
      expect.objectContaining({
        name: 'legacy-one',
        finishedAt: '2025-01-02T00:00:00.000Z',
        startedBy: { actor: null, dbUser: null },
        rowsBackfilled: 7,
      }),
    ]);
    await sql(
      old,
      `CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total numeric(12,2) NOT NULL)`,
    );
    await as('dave', () => expand(totalCents, { databaseUrl: old }));
    const after = await history({ databaseUrl: old });
    expect(after.migrations.map((m) => [m.name, m.startedBy.actor, m.finishedAt])).toEqual([
      ['legacy-one', null, '2025-01-02T00:00:00.000Z'],
      ['total-cents', 'dave', null],
    ]);
  });

  it("refuses a record that is not Tandem's, naming it", async () => {
    const bad = await freshDatabase('history_bad');
    await sql(
      bad,
      STATE_BOOTSTRAP.slice(1)
        .map((s) => s.sql)
        .join(';\n'),
    );
    await sql(
      bad,
      `INSERT INTO tandem.migrations (name, table_schema, table_name, spec_hash, step, resolved) VALUES ('odd', 'public', 't', 'x', 'exploded', '{}')`,
    );
    await expect(history({ databaseUrl: bad })).rejects.toThrow(/record that is not Tandem's \("odd"\)/);
    const r = await runCli(['status', '--json'], { DATABASE_URL: bad });
    expect(r.code).toBe(1);
  });
});
