import { backfill, contract, expand, rollback } from '../executor';
import { freshDatabase } from './db';
import { runCli } from './cli-run';
import { createCustomers, splitSpec, SPLIT_SPEC_PATH } from './fixtures';

/** `tandem history`: every step of every migration, in order, with who, when, how long and how many rows. */

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

describe('tandem history', () => {
  let url: string;
  beforeAll(async () => {
    url = await freshDatabase('cli_history');
    await createCustomers(url, 20);
    const o = { databaseUrl: url };
    await as('alice', () => expand(splitSpec(), o));
    await as('bob', () => backfill(splitSpec(), o));
    await as('bob', () => rollback(splitSpec(), o));
    await as('carol', () => expand(splitSpec(), o));
    await as('carol', () => backfill(splitSpec(), o));
    await as('dave', () => contract(splitSpec(), o));
  });

  it("--json: the steps in order, each with when, who, how long, and the backfills' rows", async () => {
    const r = await runCli(['history', SPLIT_SPEC_PATH, '--json'], { DATABASE_URL: url });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, exit_code: 0, warnings: [] });
    expect(out.migrations).toHaveLength(1);
    const m = out.migrations[0];
    expect(
      m.steps.map((s: any) => `${s.step} by ${s.by.actor}${s.rows !== null ? ` ${s.totalRows} rows` : ''}`),
    ).toEqual([
      'expanded by alice',
      'backfilled by bob 20 rows',
      'rolled_back by bob',
      'expanded by carol',
      'backfilled by carol 20 rows',
      'contracted by dave',
    ]);
    for (const s of m.steps) {
      expect(typeof s.seconds).toBe('number');
      expect(s.by.dbUser).toEqual(expect.any(String));
    }
    const at = m.steps.map((s: any) => Date.parse(s.at));
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // A re-expand after the rollback continues the migration: it started with alice's expand.
    expect({ startedAt: Date.parse(m.startedAt), startedBy: m.startedBy.actor }).toEqual({
      startedAt: at[0],
      startedBy: 'alice',
    });
  });

  it('text: a line per step; the summary says what the last run did', async () => {
    const r = await runCli(['history'], { DATABASE_URL: url });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[1]).toMatch(
      /^split-full-name on public\.customers: contracted; backfilled 20 rows; rolled back 1 time\(s\) before; started \S+ by alice, db /,
    );
    expect(
      lines.slice(2).map((l) =>
        l
          .replace(/^  \S+  /, '')
          .replace(/, took [\d.]+ s/, '')
          .replace(/, db .*$/, ''),
      ),
    ).toEqual([
      'expanded, by alice',
      'backfilled 20 rows, by bob',
      'rolled back, by bob',
      'expanded, by carol',
      'backfilled 20 rows, by carol',
      'contracted, by dave',
    ]);
  });

  it('status without a spec summarises from the same record', async () => {
    const r = await runCli(['status'], { DATABASE_URL: url });
    expect(r.stdout).toContain(
      'split-full-name on public.customers: contracted; backfilled 20 rows; rolled back 1 time(s) before',
    );
  });

  it('status SPEC shows the steps too, from the same record', async () => {
    const r = await runCli(['status', SPLIT_SPEC_PATH], { DATABASE_URL: url });
    expect(r.stdout).toMatch(
      /steps \(tandem history SPEC\):\n    \S+  expanded, took [\d.]+ s, by alice[\s\S]*rolled back, took [\d.]+ s, by bob[\s\S]*contracted/,
    );
    const json = JSON.parse((await runCli(['status', SPLIT_SPEC_PATH, '--json'], { DATABASE_URL: url })).stdout);
    expect(json.steps.map((s: any) => s.step)).toEqual([
      'expanded',
      'backfilled',
      'rolled_back',
      'expanded',
      'backfilled',
      'contracted',
    ]);
  });

  it('a spec never run: an empty history that says so', async () => {
    const empty = await freshDatabase('cli_history_none');
    await createCustomers(empty, 1);
    await expand(splitSpec(), { databaseUrl: empty });
    const other = await runCli(['history', 'migrations/merge-name.yaml', '--json'], { DATABASE_URL: empty });
    expect(JSON.parse(other.stdout)).toMatchObject({
      ok: true,
      migrations: [],
      message: expect.stringMatching(/^no migration named \S+ is recorded in tandem\.migrations$/),
    });
  });
});
