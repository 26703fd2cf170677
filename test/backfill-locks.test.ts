import { Client } from 'pg';
import { backfill, expand, status, verify } from '../executor';
import { RowsHeldError } from '../executor/backfill-errors';
import { BatchSizer } from '../executor/batch-sizer';
import { ProgressEvent } from '../executor/types';
import { freshDatabase, sql } from './db';
import { createCustomers, splitSpec } from './fixtures';

/**
 * The backfill never waits on a row lock while holding others (FOR UPDATE SKIP LOCKED), so app
 * transactions that lock several rows in any order are never its deadlock victims, and an app's
 * NOWAIT never fails because the backfill sits waiting with rows locked. Skipped rows are
 * revisited until none is pending.
 */
const spec = splitSpec();

async function connect(url: string): Promise<Client> {
  const c = new Client({ connectionString: url });
  await c.connect();
  return c;
}

async function until(what: string, check: () => Promise<boolean>, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Every row's new columns are what `up` makes of full_name, and nothing is pending. */
async function expectConsistent(url: string): Promise<void> {
  const [row] = await sql(
    url,
    `SELECT count(*) FILTER (WHERE _tandem_pending)::int AS pending,
            count(*) FILTER (WHERE first_name IS DISTINCT FROM split_part(full_name, ' ', 1)
               OR last_name IS DISTINCT FROM nullif(substr(full_name, length(split_part(full_name, ' ', 1)) + 2), ''))::int AS wrong
       FROM customers`,
  );
  expect(row).toEqual({ pending: 0, wrong: 0 });
  expect((await verify(spec, { databaseUrl: url })).ok).toBe(true);
}

describe('backfill and app row locks', () => {
  it('an app transaction holding a row is skipped, not waited on: its k+Δ-then-k writes and NOWAIT locks go through', async () => {
    const url = await freshDatabase('bflock');
    await createCustomers(url, 2000);
    await expand(spec, { databaseUrl: url });
    const holder = await connect(url);
    const nowait = await connect(url);
    const events: ProgressEvent[] = [];
    try {
      // The app detects deadlocks long before the backfill would: if there were a cycle, the app would be its victim.
      await holder.query(`SET deadlock_timeout = '10ms'`);
      await holder.query('BEGIN');
      await holder.query(`UPDATE customers SET full_name = 'Held Row' WHERE id = 500`);
      const run = backfill(spec, { databaseUrl: url, batchSize: 1000, onProgress: (e) => events.push(e) });
      run.catch(() => undefined);
      // Either the first batch committed around the held row, or the backfill is waiting on it with rows 1..499 locked.
      let backfillWaits = false;
      await until('the first batch', async () => {
        const [r] = await sql(
          url,
          `SELECT (SELECT count(*) FROM customers WHERE id < 1000 AND id <> 500 AND _tandem_pending)::int AS left,
                  EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'tandem' AND wait_event_type = 'Lock') AS waits`,
        );
        backfillWaits = r.waits;
        return r.left === 0 || r.waits;
      });
      expect(backfillWaits).toBe(false);
      // NOWAIT on the rows around the held one: free, since the backfill took the others and committed.
      await nowait.query('BEGIN');
      const locked = await nowait.query(
        `SELECT id FROM customers WHERE id < 1000 AND id <> 500 ORDER BY id FOR UPDATE NOWAIT`,
      );
      expect(locked.rowCount).toBe(998);
      await nowait.query('ROLLBACK');
      // Row k+Δ (500) is held; now row k (100): no cycle, the backfill waits on nothing.
      await holder.query(`UPDATE customers SET full_name = 'Second Write' WHERE id = 100`);
      await until('the revisit of the held row', async () =>
        events.some((e) => e.kind === 'lock_wait' && /held by other transactions \(key 500\)/.test(e.message)),
      );
      await holder.query('COMMIT');
      const result = await run;
      expect(result).toMatchObject({ complete: true, step: 'backfilled' });
      // The held row was synced by the trigger when the app's write committed: the backfill had nothing left to do for it.
      expect(result.rowsUpdated).toBe(1999);
      const [held] = await sql(
        url,
        `SELECT first_name, last_name, _tandem_pending AS pending FROM customers WHERE id = 500`,
      );
      expect(held).toEqual({ first_name: 'Held', last_name: 'Row', pending: false });
      await expectConsistent(url);
    } finally {
      await holder.end();
      await nowait.end();
    }
  });

  it('many app transactions that update row k+Δ then row k at the backfill front: no deadlock, no failed write, every row consistent', async () => {
    const ROWS = 20_000;
    const url = await freshDatabase('bfdead');
    await createCustomers(url, ROWS);
    await expand(spec, { databaseUrl: url });
    const workers = await Promise.all([1, 2, 3, 4].map(() => connect(url)));
    const errors: string[] = [];
    let transactions = 0;
    let running = true;
    const loops = workers.map(async (c, w) => {
      await c.query(`SET deadlock_timeout = '20ms'`);
      let n = 0;
      while (running) {
        // Aim just ahead of the backfill's checkpoint, where its next batch will lock.
        const front = Number(
          (
            await c.query(
              `SELECT coalesce((SELECT (backfill_last_key->>0)::bigint FROM tandem.migrations WHERE name = $1), 0) AS k`,
              [spec.name],
            )
          ).rows[0].k,
        );
        const delta = 1 + ((n * 37 + w * 11) % 150);
        const k = Math.min(ROWS - delta, front + 1 + ((n * 53 + w * 7) % 200));
        n++;
        try {
          await c.query('BEGIN');
          await c.query(`UPDATE customers SET full_name = $2 WHERE id = $1`, [k + delta, `W${w}x${n} Later`]);
          await c.query('SELECT pg_sleep(0.002)');
          await c.query(`UPDATE customers SET full_name = $2 WHERE id = $1`, [k, `W${w}y${n} Earlier Row`]);
          await c.query('COMMIT');
          transactions++;
        } catch (err: any) {
          errors.push(`${err.code}: ${err.message}`);
          await c.query('ROLLBACK').catch(() => undefined);
        }
      }
    });
    try {
      const result = await backfill(spec, { databaseUrl: url, batchSize: 200, chunkTimeMs: 5 });
      running = false;
      await Promise.all(loops);
      expect(errors).toEqual([]);
      expect(result.complete).toBe(true);
      expect(result.batches).toBeGreaterThan(10);
      expect(transactions).toBeGreaterThan(20);
      await expectConsistent(url);
    } finally {
      running = false;
      await Promise.all(loops).catch(() => undefined);
      await Promise.all(workers.map((c) => c.end()));
    }
  });

  it('rows skipped by a run that stopped are found and backfilled by the next one', async () => {
    const url = await freshDatabase('bfskip');
    await createCustomers(url, 1000);
    await expand(spec, { databaseUrl: url });
    const holder = await connect(url);
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT * FROM customers WHERE id IN (50, 150) FOR UPDATE`);
      // Two fixed batches pass the held rows without waiting (the old backfill waited out its deadline here).
      const first = await backfill(spec, { databaseUrl: url, batchSize: 100, maxBatches: 2, ddlDeadlineMs: 2000 });
      expect(first).toMatchObject({ complete: false, rowsUpdated: 200 });
      expect((await status(spec, { databaseUrl: url })).backfill.lastKey).toEqual(['202']);
      await holder.query('ROLLBACK');
      // The held rows stayed pending behind the checkpoint; the next run revisits them.
      const second = await backfill(spec, { databaseUrl: url, batchSize: 100 });
      expect(second).toMatchObject({ complete: true, rowsUpdated: 800, revisitedRows: 2 });
      await expectConsistent(url);
    } finally {
      await holder.end();
    }
  });

  it('a row held past the deadline: the backfill says which, keeps the checkpoint, and completes once it is free', async () => {
    const url = await freshDatabase('bfheld');
    await createCustomers(url, 300);
    await expand(spec, { databaseUrl: url });
    const holder = await connect(url);
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT * FROM customers WHERE id = 7 FOR UPDATE`);
      const err = await backfill(spec, {
        databaseUrl: url,
        ddlDeadlineMs: 1000,
        resumeCommand: 'tandem backfill split.yaml',
      }).catch((e) => e);
      expect(err).toBeInstanceOf(RowsHeldError);
      expect(err.exitCode).toBe(1);
      expect(err.message).toMatch(
        /^backfill of public\.customers is not complete: 1 row \(key \(7\)\) stayed locked by other transactions for \d+ s; every other row is backfilled and the checkpoint is kept: end those transactions, then resume with: tandem backfill split\.yaml$/,
      );
      const s = await status(spec, { databaseUrl: url });
      expect(s.step).toBe('backfilling');
      expect(s.backfill.pending).toBe(1);
      await holder.query('ROLLBACK');
      expect(await backfill(spec, { databaseUrl: url })).toMatchObject({
        complete: true,
        rowsUpdated: 1,
        revisitedRows: 1,
      });
      await expectConsistent(url);
    } finally {
      await holder.end();
    }
  });
});

describe('batches sized by time', () => {
  it('grow on cheap rows toward the target duration, and a fixed --batch-size stays fixed', async () => {
    const url = await freshDatabase('bfsize');
    await createCustomers(url, 20_000);
    await expand(spec, { databaseUrl: url });
    // A generous target: from 100 rows the batches double until they cover the table in a few statements.
    const timed = await backfill(spec, { databaseUrl: url, batchSize: 100, chunkTimeMs: 10_000 });
    expect(timed).toMatchObject({ complete: true, rowsUpdated: 20_000 });
    expect(timed.batches).toBeLessThan(12);
    await expectConsistent(url);

    const fixedUrl = await freshDatabase('bffixed');
    await createCustomers(fixedUrl, 20_000);
    await expand(spec, { databaseUrl: fixedUrl });
    const fixed = await backfill(spec, { databaseUrl: fixedUrl, batchSize: 100 });
    expect(fixed).toMatchObject({ complete: true, rowsUpdated: 20_000, batches: 200 });
  });

  it('the sizer follows the measured rate within its bounds, doubling at most', () => {
    const s = new BatchSizer(50, 1000, 10, 100_000);
    s.record(1000, 1000, 5); // 200 rows/ms: wants 10,000, may only double
    expect(s.next()).toBe(2000);
    s.record(2000, 2000, 400); // slow rows: the average rate drops, the size follows
    expect(s.next()).toBeLessThan(2000);
    s.record(5, s.next(), 1); // a short last batch says nothing
    const before = s.next();
    expect(before).toBeGreaterThanOrEqual(10);
    expect(s.shrink()).toBe(true);
    expect(s.next()).toBe(Math.max(10, Math.floor(before / 4)));
    const fixed = new BatchSizer(undefined, 300);
    fixed.record(300, 300, 1);
    expect(fixed.next()).toBe(300);
  });
});
