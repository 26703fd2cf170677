import { ChildProcessWithoutNullStreams, spawn } from 'child_process';
import { Client } from 'pg';
import { freshDatabase, sql, withClient } from './db';
import { TANDEM_BIN } from './cli-run';
import { createCustomers, SPLIT_SPEC_PATH } from './fixtures';

/**
 * lock_timeout bounds only the wait for a lock. A client that stalls inside expand's transaction
 * (SIGSTOP, a frozen pod) must not keep ACCESS EXCLUSIVE: the server ends the session after
 * idle_in_transaction_session_timeout, the transaction rolls back and the app's writes go on.
 */

interface Running {
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
  stdout: () => string;
  exit: Promise<number | null>;
}

function start(args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [TANDEM_BIN, ...args], { env: { PATH: process.env.PATH, ...env } });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stdout += d));
  const exit = new Promise<number | null>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  return { child, stderr: () => stderr, stdout: () => stdout, exit };
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Is a tandem session holding ACCESS EXCLUSIVE on customers? */
async function tandemHoldsLock(url: string): Promise<boolean> {
  const r = await sql(
    url,
    `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.relation = 'customers'::regclass AND l.mode = 'AccessExclusiveLock' AND l.granted AND a.application_name = 'tandem'`,
  );
  return r.length > 0;
}

describe('a stalled executor inside a DDL transaction', () => {
  it('releases ACCESS EXCLUSIVE within the hold bound: an app INSERT waiting on it completes, and expand ends in one sentence with nothing committed', async () => {
    const url = await freshDatabase('stall');
    await createCustomers(url, 100);
    const run = start(['expand', SPLIT_SPEC_PATH, '--hold-timeout', '1000'], {
      DATABASE_URL: url,
      TANDEM_TEST_STALL_AFTER: 'lock-table',
      TANDEM_TEST_STALL_MS: '30000',
    });
    try {
      await waitFor('expand to take its lock', () => run.stderr().includes('stalling after lock-table'));
      expect(await tandemHoldsLock(url)).toBe(true);
      run.child.kill('SIGSTOP'); // a frozen client: it will not send another byte
      const app = new Client({ connectionString: url });
      await app.connect();
      try {
        // Without the server-side bound this waits for the whole stall (30 s) and the app's statement_timeout cancels it.
        await app.query(`SET statement_timeout = 20000`);
        const t0 = Date.now();
        await app.query(`INSERT INTO customers (full_name) VALUES ('Written While Stalled')`);
        const waited = Date.now() - t0;
        expect(waited).toBeLessThan(15_000);
      } finally {
        await app.end();
      }
      expect(await tandemHoldsLock(url)).toBe(false);
    } finally {
      run.child.kill('SIGCONT');
    }
    run.child.kill('SIGTERM'); // ends the stall's sleep: the process notices its session is gone or exits on the signal
    const code = await run.exit;
    expect([1, 143]).toContain(code);
    expect(
      run
        .stderr()
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('tandem: stalling') && !l.startsWith('expanding')),
    ).toHaveLength(1);
    const cols = await sql(
      url,
      `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attname = 'first_name' AND NOT attisdropped`,
    );
    expect(cols[0].n).toBe(0);
    expect(await sql(url, `SELECT count(*)::int AS n FROM customers`)).toEqual([{ n: 101 }]);
  }, 60_000);

  it('a session ended by the server mid-expand is reported as a lost connection (exit 1): where it stopped, and the command that resumes', async () => {
    const url = await freshDatabase('lost');
    await createCustomers(url, 10);
    const run = start(['expand', SPLIT_SPEC_PATH, '--hold-timeout', '300', '--json'], {
      DATABASE_URL: url,
      TANDEM_TEST_STALL_AFTER: 'add-columns',
      TANDEM_TEST_STALL_MS: '1500',
    });
    expect(await run.exit).toBe(1);
    const lines = run
      .stderr()
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('tandem: stalling'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^✘ failed: lost the connection to PostgreSQL during tandem expand \(after statement "add-columns": terminating connection due to idle-in-transaction timeout.*\); .*nothing of it is half-done.*tandem status .*split-full-name\.yaml, then run tandem expand .*split-full-name\.yaml again/,
    );
    expect(JSON.parse(run.stdout())).toMatchObject({ ok: false, exit_code: 1, error: { kind: 'connection_lost' } });
    const cols = await sql(
      url,
      `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attname = 'first_name' AND NOT attisdropped`,
    );
    expect(cols[0].n).toBe(0);
  }, 60_000);
});

describe('a statement that runs long under the lock', () => {
  it("is cancelled by statement_timeout (lock timeout + 5 s): expand fails, nothing committed, and the app is not held for the statement's full length", async () => {
    const url = await freshDatabase('slowstmt');
    await createCustomers(url, 3);
    // A statement that takes 12 s inside expand's transaction, under ACCESS EXCLUSIVE (Tandem's own
    // probes only PREPARE, so the escape hatch is what can run long there).
    const fs = await import('fs');
    const os = await import('os');
    const path = await import('path');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-slow-')), 'slow.yaml');
    fs.writeFileSync(
      file,
      `name: slow-up\ntable: customers\noperations:\n  - add_column: { name: slow, type: text, up: "full_name" }\n  - raw_sql: { up: "SELECT pg_sleep(12)", down: "SELECT 1" }\n`,
    );
    const t0 = Date.now();
    const run = start(['expand', file, '--lock-timeout', '200'], { DATABASE_URL: url });
    const code = await run.exit;
    const took = Date.now() - t0;
    expect(code).not.toBe(0);
    expect(run.stderr()).toMatch(/canceling statement due to statement timeout/);
    expect(took).toBeLessThan(11_000);
    const cols = await sql(
      url,
      `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attname = 'slow' AND NOT attisdropped`,
    );
    expect(cols[0].n).toBe(0);
  }, 60_000);
});

describe('a connection lost mid-backfill', () => {
  it('exit 1 with one sentence: where it stopped, that the checkpoint is kept, the command that resumes; a rerun finishes', async () => {
    const url = await freshDatabase('lostbackfill');
    await createCustomers(url, 200);
    const env = { DATABASE_URL: url };
    expect(await start(['expand', SPLIT_SPEC_PATH], env).exit).toBe(0);
    const run = start(['backfill', SPLIT_SPEC_PATH, '--batch-size', '1', '--throttle-ms', '20'], env);
    await waitFor(
      'a few batches',
      async () => Number((await sql(url, `SELECT backfill_done AS n FROM tandem.migrations`))[0].n) >= 5,
    );
    // What a server restart or a DBA's pg_terminate_backend does to the executor's session.
    await sql(
      url,
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tandem' AND datname = current_database()`,
    );
    expect(await run.exit).toBe(1);
    const lines = run.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^✘ failed: lost the connection to PostgreSQL during tandem backfill .*every committed batch kept its checkpoint in tandem\.migrations .*resume with tandem backfill .*split-full-name\.yaml$/,
    );
    expect(await start(['backfill', SPLIT_SPEC_PATH], env).exit).toBe(0);
    expect((await sql(url, `SELECT count(*)::int AS n FROM customers WHERE first_name IS NULL`))[0].n).toBe(0);
  }, 60_000);
});

describe('Ctrl-C and SIGTERM mid-step', () => {
  it('SIGINT during the backfill: exit 130, one sentence with where it stopped and the command that resumes; the checkpoint is kept and a rerun finishes', async () => {
    const url = await freshDatabase('sigint');
    await createCustomers(url, 200);
    const env = { DATABASE_URL: url };
    const expand = start(['expand', SPLIT_SPEC_PATH], env);
    expect(await expand.exit).toBe(0);
    const run = start(['backfill', SPLIT_SPEC_PATH, '--batch-size', '1', '--throttle-ms', '20', '--json'], env);
    await waitFor(
      'a few batches',
      async () => Number((await sql(url, `SELECT backfill_done AS n FROM tandem.migrations`))[0].n) >= 5,
    );
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(130);
    const lines = run.stderr().trim().split('\n');
    expect(lines[lines.length - 1]).toMatch(
      /^✘ interrupted: tandem backfill was stopped by SIGINT .*; every committed batch kept its checkpoint .*: resume with tandem backfill .*split-full-name\.yaml$/,
    );
    expect(JSON.parse(run.stdout().trim().split('\n').pop()!)).toMatchObject({
      ok: false,
      exit_code: 130,
      error: { kind: 'interrupted', signal: 'SIGINT', command: 'backfill' },
    });
    const state = (await sql(url, `SELECT step, backfill_last_key FROM tandem.migrations`))[0];
    expect(state.step).toBe('backfilling');
    const again = start(['backfill', SPLIT_SPEC_PATH], env);
    expect(await again.exit).toBe(0);
    expect(
      await withClient(
        url,
        async (c) => (await c.query(`SELECT count(*)::int AS n FROM customers WHERE first_name IS NULL`)).rows[0].n,
      ),
    ).toBe(0);
  }, 60_000);

  it('SIGTERM during expand: exit 143, one sentence, nothing committed', async () => {
    const url = await freshDatabase('sigterm');
    await createCustomers(url, 10);
    const run = start(['expand', SPLIT_SPEC_PATH], {
      DATABASE_URL: url,
      TANDEM_TEST_STALL_AFTER: 'sync-function',
      TANDEM_TEST_STALL_MS: '20000',
    });
    await waitFor('expand to stall', () => run.stderr().includes('stalling after sync-function'));
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(143);
    const lines = run.stderr().trim().split('\n');
    expect(lines[lines.length - 1]).toMatch(
      /^✘ interrupted: tandem expand was stopped by SIGTERM .*PostgreSQL rolls back the open transaction.*tandem expand .*split-full-name\.yaml again/,
    );
    await waitFor('the session to end', async () => !(await tandemHoldsLock(url)));
    const cols = await sql(
      url,
      `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attname = 'first_name' AND NOT attisdropped`,
    );
    expect(cols[0].n).toBe(0);
  }, 60_000);
});
