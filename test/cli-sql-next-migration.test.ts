/**
 * `tandem sql` of the next migration on a table while another is in progress on it: planned
 * against the table as it will be once the one in progress contracts (its old columns and
 * Tandem's bookkeeping column gone), and the output says so. Nothing changes in the database.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { freshDatabase, sql } from './db';
import { runCli } from './cli-run';
import { createCustomers, SPLIT_SPEC_PATH } from './fixtures';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-next-sql-'));
const specFile = (name: string, body: string) => {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, `name: ${name}\ntable: customers\noperations:\n${body}`);
  return file;
};

describe('tandem sql of the next migration while one is in progress', () => {
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    const url = await freshDatabase('next_sql');
    await createCustomers(url, 50);
    env = { DATABASE_URL: url };
    expect((await runCli(['expand', SPLIT_SPEC_PATH], env)).code).toBe(0);
  });

  const columns = async () =>
    (
      await sql(
        env.DATABASE_URL!,
        `SELECT attname FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      )
    ).map((r) => r.attname);

  it("plans a spec on the in-progress migration's new column, saying what it assumes", async () => {
    const before = await columns();
    const next = specFile('rename-last-name', '  - rename_column: { from: last_name, to: surname }\n');
    for (const step of ['expand', 'backfill', 'contract', 'rollback']) {
      const r = await runCli(['sql', next, '--step', step, '--json'], env);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ ok: true, exit_code: 0, step, assumes_contracted: ['split-full-name'] });
      expect(out.sql).toMatch(
        /^-- assumes migration split-full-name, in progress on public\.customers, contracts first/,
      );
    }
    const text = await runCli(['sql', next, '--step', 'expand'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/ADD COLUMN "surname" text/);
    // Planned past the first's contract: it adds its own bookkeeping column (the first's is gone by
    // then), and its sync trigger knows nothing of the column the first one drops.
    expect(text.stdout).toMatch(/ADD COLUMN "_tandem_pending" boolean/);
    expect(text.stdout).not.toMatch(/full_name/);
    expect(await columns()).toEqual(before);
    const recorded = await sql(env.DATABASE_URL!, `SELECT name FROM tandem.migrations ORDER BY name`);
    expect(recorded.map((r) => r.name)).toEqual(['split-full-name']);
  });

  it('refuses a spec on a column the in-progress migration drops at contract (exit 2, naming it)', async () => {
    const next = specFile('rename-full-name', '  - rename_column: { from: full_name, to: display_name }\n');
    const r = await runCli(['sql', next, '--step', 'expand', '--json'], env);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: false, exit_code: 2, error: { kind: 'catalog' } });
    expect(out.error.message).toContain('full_name');
  });

  it('expand of the next migration is still refused while the first is in progress', async () => {
    const next = specFile('rename-last-name', '  - rename_column: { from: last_name, to: surname }\n');
    const r = await runCli(['expand', next, '--json'], env);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.kind).toBe('migration_in_progress');
  });
});
