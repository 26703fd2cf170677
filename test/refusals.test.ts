import { spawn } from 'child_process';
import { Client } from 'pg';
import { backfill, contract, expand, rollback, status, verify } from '../executor';
import { ExecutorBusyError, LockTimeoutError } from '../executor/errors';
import { freshDatabase, sql, withClient } from './db';
import { runCli, TANDEM_BIN } from './cli-run';
import { createCustomers, splitSpec, SPLIT_SPEC_PATH } from './fixtures';
import { snapshotTable } from './table-snapshot';
import { parseSpec } from '../phases/sql/spec';

/** Refused operations exit 1 and change nothing; crashes and blocked locks leave the table consistent. */

describe('refused operations (exit 1)', () => {
  let url: string;
  beforeEach(async () => {
    url = await freshDatabase('refuse');
    await createCustomers(url, 50);
  });

  it('contract before backfill is refused, naming the rows left to do', async () => {
    await runCli(['expand', SPLIT_SPEC_PATH], { DATABASE_URL: url });
    const before = await withClient(url, (c) => snapshotTable(c, 'customers'));
    const r = await runCli(['contract', SPLIT_SPEC_PATH], { DATABASE_URL: url });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/contract refused: not consistent: 50 rows not backfilled yet/);
    expect(await withClient(url, (c) => snapshotTable(c, 'customers'))).toEqual(before);
  });

  it('contract before expand is refused', async () => {
    const r = await runCli(['contract', SPLIT_SPEC_PATH], { DATABASE_URL: url });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot contract split-full-name on public\.customers: it is not expanded yet/);
  });

  it('rollback after contract is refused, and verify fails before expand', async () => {
    const spec = splitSpec();
    expect((await runCli(['verify', SPLIT_SPEC_PATH], { DATABASE_URL: url })).code).toBe(1);
    await expand(spec, { databaseUrl: url });
    await backfill(spec, { databaseUrl: url });
    await contract(spec, { databaseUrl: url });
    const r = await runCli(['rollback', SPLIT_SPEC_PATH], { DATABASE_URL: url });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/rollback refused: split-full-name is contracted/);
  });

  it('a changed spec is refused after expand', async () => {
    await expand(splitSpec(), { databaseUrl: url });
    const changed = { ...splitSpec(), hash: 'different' };
    await expect(backfill(changed, { databaseUrl: url })).rejects.toThrow(/changed since it was expanded/);
    expect(await status(changed, { databaseUrl: url })).toMatchObject({
      step: 'expanded',
      specChanged: true,
      message: expect.stringMatching(/spec file changed since expand/),
    });
  });

  it('a second migration on the same table is refused while the first is in progress', async () => {
    await expand(splitSpec(), { databaseUrl: url });
    const other = { ...splitSpec(), name: 'another-one' };
    await expect(expand(other, { databaseUrl: url })).rejects.toThrow(
      /table public.customers already has a migration in progress \(split-full-name\)/,
    );
  });

  it('expand runs again after a rollback, and is idempotent', async () => {
    const spec = splitSpec();
    await expand(spec, { databaseUrl: url });
    await rollback(spec, { databaseUrl: url });
    expect((await expand(spec, { databaseUrl: url })).changed).toBe(true);
    expect((await expand(spec, { databaseUrl: url })).changed).toBe(false);
    expect((await status(spec, { databaseUrl: url })).step).toBe('expanded');
  });
});

describe('one executor per table', () => {
  it('a second executor is refused while the first holds the advisory lock', async () => {
    const url = await freshDatabase('busy');
    await createCustomers(url, 10);
    const spec = splitSpec();
    await expand(spec, { databaseUrl: url });
    // Hold the table's lock the way a running executor does: keep the first one stuck in a backfill batch on a row lock.
    const holder = new Client({ connectionString: url });
    await holder.connect();
    await holder.query(`BEGIN; SELECT * FROM customers WHERE id = 1 FOR UPDATE`);
    const first = backfill(spec, { databaseUrl: url, lockTimeoutMs: 60000 });
    await new Promise((r) => setTimeout(r, 300));
    const second = await backfill(spec, { databaseUrl: url }).catch((e) => e);
    expect(second).toBeInstanceOf(ExecutorBusyError);
    expect(second.message).toMatch(/another tandem executor is working on public\.customers \(backend pid \d+\)/);
    await holder.query('COMMIT');
    await holder.end();
    expect((await first).complete).toBe(true);
  });
});

describe('lock_timeout', () => {
  it('gives up at the deadline with the blocker named, and changes nothing', async () => {
    const url = await freshDatabase('deadline');
    await createCustomers(url, 10);
    const blocker = new Client({ connectionString: url, application_name: 'long-report' });
    await blocker.connect();
    await blocker.query(`BEGIN; SELECT count(*) FROM customers`);
    try {
      const err = await expand(splitSpec(), { databaseUrl: url, lockTimeoutMs: 100, ddlDeadlineMs: 800 }).catch(
        (e) => e,
      );
      expect(err).toBeInstanceOf(LockTimeoutError);
      expect(err.message).toMatch(
        /gave up after \d+ attempts to lock public\.customers.*blocked by pid \d+ \(long-report\)/,
      );
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    const cols = await sql(
      url,
      `SELECT attname FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    );
    expect(cols.map((c) => c.attname)).toEqual(['id', 'full_name', 'email']);
  });
});

describe('a killed backfill', () => {
  it('resumes from its checkpoint to a consistent table, redoing nothing', async () => {
    const url = await freshDatabase('kill');
    const ROWS = 30000;
    await createCustomers(url, ROWS);
    const spec = splitSpec();
    await expand(spec, { databaseUrl: url });
    const child = spawn(
      process.execPath,
      [TANDEM_BIN, 'backfill', SPLIT_SPEC_PATH, '--batch-size', '100', '--throttle-ms', '5'],
      {
        env: { PATH: process.env.PATH, DATABASE_URL: url },
        stdio: 'ignore',
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    // Wait until it has committed some batches, then kill it without warning.
    for (let i = 0; i < 200; i++) {
      const [row] = await sql(
        url,
        `SELECT coalesce((SELECT backfill_done FROM tandem.migrations WHERE name = $1), 0)::int AS done`,
        [spec.name],
      );
      if (row.done >= 2000) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const afterKill = await status(spec, { databaseUrl: url });
    expect(afterKill.step).toBe('backfilling');
    expect(afterKill.backfill.done).toBeGreaterThanOrEqual(2000);
    expect(afterKill.backfill.done).toBeLessThan(ROWS);
    expect(afterKill.backfill.pending).toBe(ROWS - afterKill.backfill.done);
    expect((await verify(spec, { databaseUrl: url })).ok).toBe(false);

    const resumed = await backfill(spec, { databaseUrl: url, batchSize: 1000 });
    expect(resumed.rowsUpdated).toBe(ROWS - afterKill.backfill.done);
    expect((await verify(spec, { databaseUrl: url })).ok).toBe(true);
    expect((await status(spec, { databaseUrl: url })).backfill).toMatchObject({ done: ROWS, pending: 0 });
  });
});

describe('a backfill that fails on a row', () => {
  it('names the batch, commits nothing of it, and resumes once the data is fixed', async () => {
    const url = await freshDatabase('badrow');
    await sql(
      url,
      `CREATE TABLE prices (id int PRIMARY KEY, price text NOT NULL);
      INSERT INTO prices SELECT g, (g * 1.5)::text FROM generate_series(1, 50) g; UPDATE prices SET price = 'n/a' WHERE id = 30;`,
    );
    const spec = parseSpec(`name: cents
table: prices
operations:
  - change_type: { column: price, into: cents, type: integer, up: "(price::numeric * 100)::integer", down: "(cents / 100.0)::text" }
`);
    await expand(spec, { databaseUrl: url });
    const err = await backfill(spec, { databaseUrl: url, batchSize: 10 }).catch((e) => e);
    expect(err.message).toMatch(
      /^backfill failed at "the batch after key 20", whose transaction was rolled back: invalid input syntax for type numeric: "n\/a"; the batches before it stay committed and the checkpoint is kept/,
    );
    expect(err.message).not.toMatch(/nothing changed/); // 20 rows were committed before it
    expect((await status(spec, { databaseUrl: url })).backfill).toMatchObject({ done: 20, pending: 30 });
    await sql(url, `UPDATE prices SET price = '45' WHERE id = 30`);
    expect(await backfill(spec, { databaseUrl: url, batchSize: 10 })).toMatchObject({
      complete: true,
      rowsUpdated: 29,
    });
    expect((await verify(spec, { databaseUrl: url })).ok).toBe(true);
  });
});

describe('verify --for-app: can the table serve a canary of this version now?', () => {
  it.each([
    ['before expand', 'none', { v1: true, v2: false, v3: false }],
    ['expanded and backfilled', 'backfilled', { v1: true, v2: true, v3: true }],
    ['expanded, not backfilled', 'expanded', { v1: false, v2: false, v3: false }],
    ['contracted', 'contracted', { v1: false, v2: false, v3: true }],
  ] as const)('%s', async (_what, state, expected) => {
    const url = await freshDatabase('forapp');
    await createCustomers(url, 20);
    const spec = splitSpec();
    const o = { databaseUrl: url };
    if (state !== 'none') await expand(spec, o);
    if (state === 'backfilled' || state === 'contracted') await backfill(spec, o);
    if (state === 'contracted') await contract(spec, o);
    const got: Record<string, boolean> = {};
    for (const v of ['v1', 'v2', 'v3'] as const) got[v] = (await verify(spec, { ...o, forApp: v })).ok;
    expect(got).toEqual(expected);
    const cli = await runCli(['verify', SPLIT_SPEC_PATH, '--for-app', 'v2'], { DATABASE_URL: url });
    expect(cli.code).toBe(expected.v2 ? 0 : 1);
    // The roles answer as their aliases: old v1, dual v2, new v3.
    for (const [role, v] of [
      ['old', 'v1'],
      ['dual', 'v2'],
      ['new', 'v3'],
    ] as const) {
      const r = await runCli(['verify', SPLIT_SPEC_PATH, '--for-app', role], { DATABASE_URL: url });
      expect({ role, code: r.code }).toEqual({ role, code: expected[v] ? 0 : 1 });
    }
  });

  it('refuses an unknown version', async () => {
    const r = await runCli(['verify', SPLIT_SPEC_PATH, '--for-app', 'v4'], {
      DATABASE_URL: 'postgres://x@127.0.0.1/x',
    });
    expect(r).toMatchObject({
      code: 2,
      stderr: '✘ invalid input: --for-app must be old, dual or new (or v1, v2, v3), not "v4"\n',
    });
  });
});
