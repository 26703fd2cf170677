import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';
import { backfill, expand, status, verify } from '../executor';
import { BackfillStoppedError } from '../executor/backfill-errors';
import { parseDuration } from '../executor/throttle';
import { ProgressEvent } from '../executor/types';
import { runCli } from './cli-run';
import { freshDatabase, sql } from './db';
import { createCustomers, splitSpec, SPLIT_SPEC_PATH } from './fixtures';

/** Throttling as gh-ost and pt-online-schema-change do it: pause on load or a pause file, stop on critical load. */
const spec = splitSpec();

async function until(what: string, check: () => boolean | Promise<boolean>, tries = 800): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `n` sessions, each busy in a statement (state 'active') until released. */
async function busySessions(url: string, n: number): Promise<{ release: () => Promise<void> }> {
  const clients = await Promise.all(
    Array.from({ length: n }, async () => {
      const c = new Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  const pids = await Promise.all(
    clients.map(async (c) => (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number),
  );
  const running = clients.map((c) => c.query('SELECT pg_sleep(120)').catch(() => undefined));
  await until('the busy sessions', async () => {
    const [r] = await sql(
      url,
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1) AND state = 'active'`,
      [pids],
    );
    return r.n === n;
  });
  return {
    release: async () => {
      await sql(url, `SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) pid`, [pids]);
      await Promise.all(running);
      await Promise.all(clients.map((c) => c.end()));
    },
  };
}

describe('backfill throttling', () => {
  it('pauses while more backends than --max-load are active, and resumes when they are done', async () => {
    const url = await freshDatabase('bfload');
    await createCustomers(url, 3000);
    await expand(spec, { databaseUrl: url });
    const busy = await busySessions(url, 8);
    const events: ProgressEvent[] = [];
    try {
      const run = backfill(spec, { databaseUrl: url, batchSize: 500, maxLoad: 5, onProgress: (e) => events.push(e) });
      run.catch(() => undefined);
      await until('the pause', () => events.some((e) => /paused: load \d+ active backends > 5$/.test(e.message)));
      // Paused before its first batch: nothing written while the load is high.
      expect((await status(spec, { databaseUrl: url })).backfill.done).toBe(0);
      await busy.release();
      const result = await run;
      expect(result.complete).toBe(true);
      expect(result.pausedSeconds).toBeGreaterThan(0);
      expect(events.some((e) => /resumed after \d+\.\d s paused/.test(e.message))).toBe(true);
      expect((await verify(spec, { databaseUrl: url })).ok).toBe(true);
    } finally {
      await busy.release().catch(() => undefined);
    }
  });

  it('stops at --critical-load with the checkpoint kept, exit 1 and the command that resumes', async () => {
    const url = await freshDatabase('bfcrit');
    await createCustomers(url, 3000);
    await expand(spec, { databaseUrl: url });
    // Some progress first, so "kept" means something.
    await backfill(spec, { databaseUrl: url, batchSize: 500, maxBatches: 2 });
    const busy = await busySessions(url, 4);
    try {
      const err = await backfill(spec, { databaseUrl: url, criticalLoad: 3 }).catch((e) => e);
      expect(err).toBeInstanceOf(BackfillStoppedError);
      const cli = await runCli(['backfill', SPLIT_SPEC_PATH, '--critical-load', '3', '--chunk-time', '40'], {
        DATABASE_URL: url,
      });
      expect(cli.code).toBe(1);
      expect(cli.stderr).toMatch(
        /failed: backfill of public\.customers stopped: \d+ active backends > --critical-load 3; the checkpoint is kept \(0 rows done in this run\), resume with: tandem backfill \S+split-full-name\.yaml --critical-load 3 --chunk-time 40\n/,
      );
      const s = await status(spec, { databaseUrl: url });
      expect(s).toMatchObject({ step: 'backfilling', backfill: { done: 1000 } });
    } finally {
      await busy.release();
    }
    expect(await backfill(spec, { databaseUrl: url, criticalLoad: 3 })).toMatchObject({
      complete: true,
      rowsUpdated: 2000,
    });
    expect((await verify(spec, { databaseUrl: url })).ok).toBe(true);
  });

  it('pauses while the --pause-file exists', async () => {
    const url = await freshDatabase('bfpause');
    await createCustomers(url, 2000);
    await expand(spec, { databaseUrl: url });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-pause-')), 'pause');
    fs.writeFileSync(file, '');
    const events: ProgressEvent[] = [];
    const run = backfill(spec, { databaseUrl: url, pauseFile: file, onProgress: (e) => events.push(e) });
    run.catch(() => undefined);
    await until('the pause', () =>
      events.some((e) => e.message === `backfill public.customers paused: pause file ${file} exists`),
    );
    expect((await status(spec, { databaseUrl: url })).backfill.done).toBe(0);
    fs.rmSync(file);
    expect(await run).toMatchObject({ complete: true, rowsUpdated: 2000 });
  });

  it('refuses to throttle on statistics the role cannot see, and rejects a bad --max-lag', async () => {
    const url = await freshDatabase('bfpriv');
    await createCustomers(url, 10);
    const role = `bf_plain_${process.pid}`;
    await sql(
      url,
      `DROP ROLE IF EXISTS ${role}; CREATE ROLE ${role} LOGIN; ALTER TABLE customers OWNER TO ${role}; GRANT CREATE ON DATABASE ${new URL(url).pathname.slice(1)} TO ${role}`,
    );
    const asRole = new URL(url);
    asRole.username = role;
    await expand(spec, { databaseUrl: asRole.toString() });
    const err = await backfill(spec, { databaseUrl: asRole.toString(), maxLoad: 10 }).catch((e) => e);
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe(
      `cannot throttle the backfill of public.customers: role ${role} cannot see other sessions' replication lag and activity; GRANT pg_monitor TO ${role}, or drop --max-lag/--max-lag-bytes/--max-load/--critical-load`,
    );
    const bad = await runCli(['backfill', SPLIT_SPEC_PATH, '--max-lag', '3'], { DATABASE_URL: url });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-lag must be a duration such as 1s, 500ms or 2min, not "3"/);
    expect([
      parseDuration('500ms'),
      parseDuration('1.5s'),
      parseDuration('2min'),
      parseDuration('0s'),
      parseDuration('1h'),
    ]).toEqual([500, 1500, 120_000, undefined, undefined]);
  });
});
