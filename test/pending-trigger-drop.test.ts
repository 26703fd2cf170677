import { Client } from 'pg';
import { backfill, contract, expand, rollback, verify } from '../executor';
import { createTriggerSql, syncTriggers } from '../phases/sql/plan';
import { freshDatabase, sql, withClient } from './db';
import { createCustomers, splitSpec } from './fixtures';

/**
 * The pending trigger costs every UPDATE of the table while it exists (docs/performance.md), and
 * has nothing to do once no row is pending: the backfill drops it when it leaves none. App writes
 * still sync through the other triggers, contract and rollback run without it, a run stopped part
 * way keeps it (rows are still pending), a busy table leaves it in place for the next run, and a
 * run interrupted on either side of the drop is finished by the next one.
 */
const opts = (url: string) => ({ databaseUrl: url, lockTimeoutMs: 2000 });
const PENDING = 'zz_tandem_sync_split_full_name_zp';

async function triggers(url: string): Promise<string[]> {
  return (
    await sql(
      url,
      `SELECT tgname FROM pg_trigger WHERE tgrelid = 'customers'::regclass AND NOT tgisinternal ORDER BY tgname`,
    )
  ).map((r) => r.tgname);
}

describe('the backfill drops the pending trigger once no row is pending', () => {
  it('after a complete backfill it is gone; app writes still sync, verify passes, contract runs', async () => {
    const url = await freshDatabase('pendrop');
    await createCustomers(url, 30);
    await expand(splitSpec(), opts(url));
    expect(await triggers(url)).toContain(PENDING);
    const r = await backfill(splitSpec(), opts(url));
    expect(r.complete).toBe(true);
    expect(await triggers(url)).toEqual([
      'zz_tandem_sync_split_full_name',
      'zz_tandem_sync_split_full_name_00a',
      'zz_tandem_sync_split_full_name_00b',
    ]);
    await sql(
      url,
      `UPDATE customers SET full_name = 'Grace Hopper' WHERE id = 1; INSERT INTO customers (full_name) VALUES ('Alan Turing'); UPDATE customers SET first_name = 'Ada', last_name = 'Lovelace' WHERE id = 2`,
    );
    expect(
      await sql(
        url,
        `SELECT full_name, first_name, last_name FROM customers WHERE id IN (1, 2) OR full_name = 'Alan Turing' ORDER BY id`,
      ),
    ).toEqual([
      { full_name: 'Grace Hopper', first_name: 'Grace', last_name: 'Hopper' },
      { full_name: 'Ada Lovelace', first_name: 'Ada', last_name: 'Lovelace' },
      { full_name: 'Alan Turing', first_name: 'Alan', last_name: 'Turing' },
    ]);
    expect((await verify(splitSpec(), opts(url))).ok).toBe(true);
    await contract(splitSpec(), opts(url));
    expect(await triggers(url)).toEqual([]);
  });

  it('rollback after the drop leaves the table as before expand', async () => {
    const url = await freshDatabase('pendroprb');
    await createCustomers(url, 5);
    await expand(splitSpec(), opts(url));
    await backfill(splitSpec(), opts(url));
    expect(await triggers(url)).not.toContain(PENDING);
    await rollback(splitSpec(), opts(url));
    expect(await triggers(url)).toEqual([]);
    expect(
      (
        await sql(
          url,
          `SELECT attname FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        )
      ).map((r) => r.attname),
    ).toEqual(['id', 'full_name', 'email']);
  });

  it('a run stopped part way keeps it, and it still derives a pending row an app update meets', async () => {
    const url = await freshDatabase('pendroppart');
    await createCustomers(url, 40);
    await expand(splitSpec(), opts(url));
    const part = await backfill(splitSpec(), { ...opts(url), batchSize: 5, maxBatches: 1 });
    expect(part.complete).toBe(false);
    expect(await triggers(url)).toContain(PENDING);
    await sql(url, `UPDATE customers SET email = 'x@example.com' WHERE id = 40`);
    expect(
      await sql(url, `SELECT first_name, last_name, _tandem_pending AS pending FROM customers WHERE id = 40`),
    ).toEqual([{ first_name: 'First40', last_name: 'Last40', pending: false }]);
    await backfill(splitSpec(), opts(url));
    expect(await triggers(url)).not.toContain(PENDING);
  });

  it('a busy table: the backfill completes, says the trigger stays, and the next run drops it', async () => {
    const url = await freshDatabase('pendropbusy');
    await createCustomers(url, 10);
    await expand(splitSpec(), opts(url));
    const holder = new Client({ connectionString: url });
    await holder.connect();
    try {
      // ACCESS SHARE, held: the DROP's ACCESS EXCLUSIVE waits; the batches' ROW EXCLUSIVE does not.
      await holder.query(`BEGIN; SELECT count(*) FROM customers`);
      const r = await backfill(splitSpec(), { databaseUrl: url, lockTimeoutMs: 50, ddlDeadlineMs: 300 });
      expect(r.complete).toBe(true);
      expect(r.step).toBe('backfilled');
      expect(r.message).toMatch(/the pending trigger stays \(the table was busy\): run backfill again to drop it/);
      expect(await triggers(url)).toContain(PENDING);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    const again = await backfill(splitSpec(), opts(url));
    expect(again.message).toBe('already backfilled');
    expect(await triggers(url)).not.toContain(PENDING);
    expect((await verify(splitSpec(), opts(url))).ok).toBe(true);
  });

  it('a DROP the database refuses (an event trigger freezing DROP TRIGGER): the backfill completes, keeps the trigger and says why', async () => {
    const url = await freshDatabase('pendropfreeze');
    await createCustomers(url, 10);
    await expand(splitSpec(), opts(url));
    await sql(
      url,
      `CREATE FUNCTION freeze() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'change freeze: % refused', tg_tag; END $$;
       CREATE EVENT TRIGGER freeze_drop_trigger ON ddl_command_start WHEN TAG IN ('DROP TRIGGER') EXECUTE FUNCTION freeze()`,
    );
    const r = await backfill(splitSpec(), opts(url));
    expect(r).toMatchObject({ complete: true, step: 'backfilled' });
    expect(r.message).toMatch(
      /the pending trigger stays \(dropping it failed: .*change freeze: DROP TRIGGER refused\): run backfill again to drop it/,
    );
    expect(await triggers(url)).toContain(PENDING);
    expect((await verify(splitSpec(), opts(url))).ok).toBe(true);
  });

  it('interrupted after the drop, before completion was recorded: the next run finds no row pending and records it', async () => {
    const url = await freshDatabase('pendropcrash');
    await createCustomers(url, 10);
    await expand(splitSpec(), opts(url));
    // What a run that died between the drop and recording completion leaves: every row done, the trigger gone, step "expanded".
    await withClient(url, async (c) => {
      await c.query(`SET tandem.backfill = 'on'`);
      await c.query(
        `UPDATE customers SET first_name = split_part(full_name, ' ', 1), last_name = nullif(substr(full_name, length(split_part(full_name, ' ', 1)) + 2), ''), _tandem_pending = false`,
      );
      await c.query(`DROP TRIGGER ${PENDING} ON customers`);
    });
    const r = await backfill(splitSpec(), opts(url));
    expect(r).toMatchObject({ complete: true, step: 'backfilled' });
    expect((await verify(splitSpec(), opts(url))).ok).toBe(true);
    await contract(splitSpec(), opts(url));
  });

  it('a pending trigger still there after completion was recorded (an older run) is dropped by the next run', async () => {
    const url = await freshDatabase('pendropold');
    await createCustomers(url, 5);
    await expand(splitSpec(), opts(url));
    await backfill(splitSpec(), opts(url));
    const resolved = (await sql(url, `SELECT resolved FROM tandem.migrations WHERE name = 'split-full-name'`))[0]
      .resolved;
    await sql(
      url,
      createTriggerSql(
        resolved,
        syncTriggers(resolved).find((t) => t.arg === 'pending')!,
      ),
    );
    expect(await triggers(url)).toContain(PENDING);
    await backfill(splitSpec(), opts(url));
    expect(await triggers(url)).not.toContain(PENDING);
  });
});
