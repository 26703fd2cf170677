import { backfill, expand, status, verify } from '../executor';
import { ProgressEvent } from '../executor/types';
import { ScratchPostgres, startScratchPostgres } from '../rehearsal/scratch-postgres';
import { sql } from './db';
import { createCustomers, splitSpec } from './fixtures';

/**
 * --max-lag with a standby that cannot report: its physical replication slot keeps WAL for it, but
 * no standby is connected (it is down). That is when it is furthest behind, so the backfill must
 * count it as lagging and wait, as gh-ost and pt-osc do, saying why; it resumes once the slot has a
 * streaming standby again or is dropped. A server of its own:
 * a slot is cluster-wide and would pause other files' backfills.
 */
const spec = splitSpec();

async function until(what: string, check: () => boolean | Promise<boolean>, tries = 800): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('backfill --max-lag with a standby that cannot report', () => {
  let server: ScratchPostgres;
  beforeAll(async () => {
    server = await startScratchPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('pauses while a physical slot has no standby connected, naming it, and resumes when the slot is dropped', async () => {
    await sql(server.url, 'CREATE DATABASE silent');
    const url = server.urlFor('silent');
    await createCustomers(url, 3000);
    await expand(spec, { databaseUrl: url });
    // A standby that was streaming and is now down: its slot reserved WAL and nobody reads it.
    await sql(url, `SELECT pg_create_physical_replication_slot('standby_down', true)`);
    const events: ProgressEvent[] = [];
    const run = backfill(spec, { databaseUrl: url, batchSize: 500, maxLagMs: 1000, onProgress: (e) => events.push(e) });
    run.catch(() => undefined);
    await until('the pause', () =>
      events.some((e) =>
        /^backfill public\.customers paused: replication slot standby_down has no standby connected, so it cannot report its lag \([\d.]+ (bytes|MB) of WAL kept for it\); waiting until its standby streams again, or drop the slot/.test(
          e.message,
        ),
      ),
    );
    // Nothing is written while the standby cannot say how far behind it is.
    expect((await status(spec, { databaseUrl: url })).backfill.done).toBe(0);
    await sql(url, `SELECT pg_drop_replication_slot('standby_down')`);
    const result = await run;
    expect(result).toMatchObject({ complete: true, rowsUpdated: 3000 });
    expect(events.some((e) => /resumed after \d+\.\d s paused/.test(e.message))).toBe(true);
    expect((await verify(spec, { databaseUrl: url })).ok).toBe(true);
  }, 60_000);

  it('counts the silent standby for --max-lag-bytes too, whatever the bytes limit', async () => {
    await sql(server.url, 'CREATE DATABASE silentbytes');
    const url = server.urlFor('silentbytes');
    await createCustomers(url, 1000);
    await expand(spec, { databaseUrl: url });
    await sql(url, `SELECT pg_create_physical_replication_slot('standby_gone', true)`);
    try {
      const events: ProgressEvent[] = [];
      const run = backfill(spec, {
        databaseUrl: url,
        batchSize: 500,
        maxLagBytes: 1 << 30,
        onProgress: (e) => events.push(e),
      });
      run.catch(() => undefined);
      await until('the pause', () =>
        events.some((e) => /paused: replication slot standby_gone has no standby connected/.test(e.message)),
      );
      expect((await status(spec, { databaseUrl: url })).backfill.done).toBe(0);
      await sql(url, `SELECT pg_drop_replication_slot('standby_gone')`);
      expect(await run).toMatchObject({ complete: true });
    } finally {
      await sql(
        url,
        `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'standby_gone'`,
      );
    }
  }, 60_000);
});
