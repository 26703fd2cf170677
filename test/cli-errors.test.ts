import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backfill, expand } from '../executor';
import { connectionConfig } from '../executor/connection';
import { freshDatabase, sql } from './db';
import { runCli, spawnCli } from './cli-run';
import { createCustomers, splitSpec, SPLIT_SPEC_PATH } from './fixtures';
import { asRole, createMigrator, createRole } from './roles';

/** The errors a new user meets: each one a sentence, an exit code, and with --json exactly one object on stdout. */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cli-errors-'));
function specFile(name: string, text: string): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}
const one = (stdout: string) => {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
};
const noTandem = async (url: string) => (await sql(url, `SELECT to_regnamespace('tandem') IS NULL AS none`))[0].none;

describe('--json: one object on stdout for every outcome', () => {
  let url: string;
  beforeAll(async () => {
    url = await freshDatabase('json');
    await createCustomers(url, 20);
    await sql(url, `CREATE INDEX customers_full_name ON customers (full_name)`);
  });

  it('bad input (exit 2), a refusal (exit 1) and a success with its warnings', async () => {
    const bad = await runCli(['expand', path.join(dir, 'missing.yaml'), '--json'], { DATABASE_URL: url });
    expect(bad.code).toBe(2);
    expect(one(bad.stdout)).toEqual({
      ok: false,
      exit_code: 2,
      error: { kind: 'spec', message: expect.stringMatching(/does not exist/), field: '' },
      warnings: [],
    });
    const usage = await runCli(['verify', SPLIT_SPEC_PATH, '--for-app', 'v9', '--json'], { DATABASE_URL: url });
    expect(one(usage.stdout)).toMatchObject({ ok: false, exit_code: 2, error: { kind: 'usage' } });
    const refused = await runCli(['contract', SPLIT_SPEC_PATH, '--json'], { DATABASE_URL: url });
    expect(refused.code).toBe(1);
    expect(one(refused.stdout)).toMatchObject({
      ok: false,
      exit_code: 1,
      error: { kind: 'refused', migration: 'split-full-name', message: expect.stringMatching(/not expanded yet/) },
    });
    const expanded = await runCli(['expand', SPLIT_SPEC_PATH, '--json'], { DATABASE_URL: url });
    expect(expanded.code).toBe(0);
    expect(one(expanded.stdout)).toMatchObject({
      ok: true,
      exit_code: 0,
      step: 'expanded',
      warnings: [expect.stringMatching(/contract will refuse while index customers_full_name/)],
    });
    const unreachable = await runCli([
      'status',
      SPLIT_SPEC_PATH,
      '--json',
      '--database-url',
      'postgres://nobody@127.0.0.1:1/none',
    ]);
    expect(one(unreachable.stdout)).toMatchObject({
      ok: false,
      exit_code: 1,
      error: { kind: 'connection', target: '127.0.0.1:1/none' },
    });
  });
});

describe('validate runs exactly what expand runs, and rolls it back', () => {
  it('rejects what expand rejects, with the same message, and leaves nothing behind', async () => {
    const url = await freshDatabase('validate');
    await createCustomers(url, 20);
    const file = specFile(
      'as-int',
      `name: email-number\ntable: customers\noperations:\n  - add_column: { name: email_number, type: integer, up: "email" }\n`,
    );
    const v = await runCli(['validate', file], { DATABASE_URL: url });
    expect(await noTandem(url)).toBe(true);
    const e = await runCli(['expand', file], { DATABASE_URL: url });
    expect(e.code).not.toBe(0);
    const verdict = (text: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith('✘'))
        .join('\n');
    expect(v.code).toBe(2);
    expect({ code: v.code, stderr: verdict(v.stderr) }).toEqual({ code: e.code, stderr: verdict(e.stderr) });
  });

  it('a spec that expand takes passes validate, and validate changes nothing', async () => {
    const url = await freshDatabase('validate2');
    await createCustomers(url, 20);
    expect((await runCli(['validate', SPLIT_SPEC_PATH], { DATABASE_URL: url })).code).toBe(0);
    expect(await noTandem(url)).toBe(true);
    expect(
      await sql(
        url,
        `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attname = 'first_name'`,
      ),
    ).toEqual([{ n: 0 }]);
  });
});

describe('privileges named up front', () => {
  it('not the table owner: validate and expand say who owns it and what to do', async () => {
    const admin = await freshDatabase('priv');
    await createCustomers(admin, 5); // owned by postgres
    const migrator = await createMigrator(admin);
    await sql(admin, `GRANT SELECT, UPDATE ON customers TO "${migrator}"`);
    for (const command of ['validate', 'expand']) {
      const r = await runCli([command, SPLIT_SPEC_PATH, '--json'], { DATABASE_URL: asRole(admin, migrator) });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `the migrator role "${migrator}" does not own public\\.customers \\(owner: postgres\\).*GRANT "postgres" TO "${migrator}"`,
        ),
      );
      expect(one(r.stdout)).toMatchObject({ error: { kind: 'privilege', privilege: 'ownership', role: migrator } });
    }
  });

  it('no CREATE on the database for the state schema: named before anything runs', async () => {
    const admin = await freshDatabase('priv2');
    const migrator = await createRole(admin, 'nocreate');
    await sql(admin, `GRANT CREATE ON SCHEMA public TO "${migrator}"`);
    await createCustomers(asRole(admin, migrator), 5);
    const r = await runCli(['validate', SPLIT_SPEC_PATH], { DATABASE_URL: asRole(admin, migrator) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /has no CREATE privilege on database .*GRANT CREATE ON DATABASE .* or have an administrator run CREATE SCHEMA tandem AUTHORIZATION/,
    );
  });
});

describe('a second migration on a table with one in progress', () => {
  it('is refused the same way (exit 1, naming it) by every command but sql, which plans it past the contract of the one in progress', async () => {
    const url = await freshDatabase('second');
    await createCustomers(url, 5);
    await expand(splitSpec(), { databaseUrl: url });
    const other = specFile(
      'other',
      `name: other-change\ntable: customers\noperations:\n  - add_column: { name: note, type: text }\n`,
    );
    for (const args of [['validate'], ['expand'], ['backfill'], ['verify'], ['contract'], ['rollback'], ['status']]) {
      const [command, ...rest] = args;
      const r = await runCli([command, other, ...rest, '--json'], { DATABASE_URL: url });
      expect({ command, code: r.code }).toEqual({ command, code: 1 });
      expect(r.stderr).toMatch(
        /table public\.customers already has a migration in progress \(split-full-name\); contract or roll it back before starting other-change/,
      );
      expect(one(r.stdout)).toMatchObject({
        error: { kind: 'migration_in_progress', migrations: ['split-full-name'] },
      });
    }
    const r = await runCli(['sql', other, '--step', 'expand', '--json'], { DATABASE_URL: url });
    expect({ code: r.code, out: one(r.stdout) }).toMatchObject({
      code: 0,
      out: { ok: true, assumes_contracted: ['split-full-name'] },
    });
  });
});

describe('contract refused on inconsistent rows', () => {
  it('names the way out that moves things on (rewrite the kept side: repair does not touch an unflagged row), not backfill, which would answer "already backfilled"', async () => {
    const url = await freshDatabase('loop');
    await createCustomers(url, 5);
    await expand(splitSpec(), { databaseUrl: url });
    await backfill(splitSpec(), { databaseUrl: url });
    await sql(
      url,
      `BEGIN; SET LOCAL tandem.backfill = 'on'; UPDATE customers SET first_name = 'Someone' WHERE id = 2; COMMIT;`,
    );
    const r = await runCli(['contract', SPLIT_SPEC_PATH], { DATABASE_URL: url });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 rows inconsistent .*keys 2.*rewrite the side to keep/);
    expect(r.stderr).not.toMatch(/tandem backfill|run tandem repair/);
  });
});

describe('help and flags', () => {
  it('-h works like --help', async () => {
    const h = await runCli(['expand', '-h']);
    const help = await runCli(['expand', '--help']);
    expect(h).toEqual({ ...help, code: 0 });
    expect(h.stdout).toMatch(/^Usage: tandem expand SPEC/);
  });

  it.each([
    ['verify', ['lock-timeout', 'hold-timeout']],
    ['status', ['lock-timeout', 'hold-timeout']],
    ['backfill', ['hold-timeout']],
  ])('%s offers no flag it does not use', async (command, unused) => {
    const help = (await runCli([command, '--help'])).stdout;
    for (const flag of unused) {
      expect(help).not.toContain(`--${flag}`);
      const r = await runCli([command, SPLIT_SPEC_PATH, `--${flag}`, '5']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`unknown option --${flag}`));
    }
  });

  it('tandem sql honours --lock-timeout and --hold-timeout', async () => {
    const url = await freshDatabase('sqlflags');
    await createCustomers(url, 1);
    const r = await runCli(
      ['sql', SPLIT_SPEC_PATH, '--step', 'expand', '--lock-timeout', '2500', '--hold-timeout', '700'],
      { DATABASE_URL: url },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /SET LOCAL lock_timeout = 2500;\nSET LOCAL statement_timeout = 7500;\nSET LOCAL idle_in_transaction_session_timeout = 700;/,
    );
  });
});

describe('TANDEM_PG_BIN', () => {
  it('pointing nowhere is bad input (exit 2), not a silent fallback to other binaries', async () => {
    const r = await spawnCli(['rehearse', SPLIT_SPEC_PATH, '--rows', '1'], { TANDEM_PG_BIN: '/nonexistent/pg/bin' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      '✘ invalid input: TANDEM_PG_BIN is /nonexistent/pg/bin, which has no initdb and pg_ctl: point it at the directory holding the PostgreSQL server binaries (e.g. /usr/lib/postgresql/15/bin), or unset it',
    );
  });
});

describe('sslmode means what it means to libpq', () => {
  it.each([
    ['disable', false],
    ['require', { rejectUnauthorized: false }],
    ['prefer', { rejectUnauthorized: false }],
    ['allow', false],
  ])('sslmode=%s', (mode, ssl) => {
    expect(connectionConfig(`postgres://u@db.example:5432/app?sslmode=${mode}`, {}).config.ssl).toEqual(ssl);
  });

  it('verify-full verifies, PGSSLMODE applies when the URL has none, and nothing is printed', () => {
    const warnings: unknown[] = [];
    const listener = (w: unknown) => warnings.push(w);
    process.on('warning', listener);
    try {
      expect(connectionConfig('postgres://u@db.example/app?sslmode=verify-full', {}).config.ssl).toEqual({});
      expect(connectionConfig('postgres://u@db.example/app', { PGSSLMODE: 'require' }).config.ssl).toEqual({
        rejectUnauthorized: false,
      });
      expect(connectionConfig('postgres://u@db.example/app', {}).config.ssl).toBeUndefined();
    } finally {
      process.off('warning', listener);
    }
    expect(warnings).toEqual([]);
  });

  it('a bad sslmode is bad input', () => {
    expect(() => connectionConfig('postgres://u@db.example/app?sslmode=sometimes', {})).toThrow(
      /sslmode "sometimes" in the database URL is not one of disable, allow, prefer, require/,
    );
  });

  it('against a server without TLS: prefer falls back to plain, require fails (exit 1) without a warning spew', async () => {
    const url = await freshDatabase('ssl');
    await createCustomers(url, 1);
    const prefer = await spawnCli(['status', SPLIT_SPEC_PATH, '--database-url', `${url}?sslmode=prefer`]);
    expect(prefer.code).toBe(0);
    expect(prefer.stderr).toBe('');
    const require_ = await spawnCli(['status', SPLIT_SPEC_PATH, '--database-url', `${url}?sslmode=require`]);
    expect(require_.code).toBe(1);
    expect(require_.stderr.trim().split('\n')).toHaveLength(1);
    expect(require_.stderr).toMatch(/does not support SSL/);
  });
});
