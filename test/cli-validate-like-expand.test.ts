import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backfill, contract, expand } from '../executor';
import { freshDatabase, sql } from './db';
import { runCli } from './cli-run';
import { createCustomers, splitSpec, SPLIT_SPEC_PATH } from './fixtures';

/**
 * validate runs every check expand runs: what expand refuses, validate refuses with the same exit
 * code and sentence; where expand would change nothing, validate says so instead of claiming that
 * expand's transaction ran.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-validate-'));
/** Another refactoring under the name of the split (its down differs). */
const REUSED_NAME = path.join(dir, 'reused-name.yaml');
fs.writeFileSync(
  REUSED_NAME,
  fs
    .readFileSync(SPLIT_SPEC_PATH, 'utf8')
    .replace(`down: "concat_ws(' ', first_name, last_name)"`, `down: "first_name || ' ' || last_name"`),
);

const verdict = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('✘'))
    .join('\n');

async function contracted(url: string): Promise<void> {
  await createCustomers(url, 10);
  await expand(splitSpec(), { databaseUrl: url });
  await backfill(splitSpec(), { databaseUrl: url });
  await contract(splitSpec(), { databaseUrl: url });
}

describe('validate refuses what expand refuses', () => {
  it.each([
    [
      'a spec reusing the name of a contracted migration',
      contracted,
      REUSED_NAME,
      /migration name "split-full-name" was already used and contracted on public\.customers; give a new refactoring a new name/,
    ],
    [
      'an expanded migration whose trigger was dropped by hand',
      async (url: string) => {
        await createCustomers(url, 10);
        await expand(splitSpec(), { databaseUrl: url });
        const [{ tgname }] = await sql(
          url,
          `SELECT tgname FROM pg_trigger WHERE tgrelid = 'customers'::regclass AND tgname LIKE 'zz_tandem_sync_%' LIMIT 1`,
        );
        await sql(url, `DROP TRIGGER "${tgname}" ON customers`);
      },
      SPLIT_SPEC_PATH,
      /split-full-name is recorded as expanded but public\.customers lacks trigger .*someone changed the table by hand/,
    ],
  ])('%s', async (_what, setup, spec, message) => {
    const url = await freshDatabase('validate_like');
    await setup(url);
    const v = await runCli(['validate', spec], { DATABASE_URL: url });
    const e = await runCli(['expand', spec], { DATABASE_URL: url });
    expect(e.code).toBe(1);
    expect(verdict(e.stderr)).toMatch(message);
    expect({ code: v.code, verdict: verdict(v.stderr) }).toEqual({ code: e.code, verdict: verdict(e.stderr) });
  });

  it('a spec already contracted: validate says expand would change nothing, not that its transaction ran', async () => {
    const url = await freshDatabase('validate_done');
    await contracted(url);
    const v = await runCli(['validate', SPLIT_SPEC_PATH, '--json'], { DATABASE_URL: url });
    expect(v.code).toBe(0);
    const outcome = JSON.parse(v.stdout);
    expect(outcome).toMatchObject({ ok: true, recordedStep: 'contracted' });
    const text = await runCli(['validate', SPLIT_SPEC_PATH], { DATABASE_URL: url });
    expect(text.stdout).toMatch(
      /split-full-name is already contracted on public\.customers, and the table agrees; expand would change nothing/,
    );
    expect(text.stdout).not.toMatch(/transaction and probes ran/);
  });
});
