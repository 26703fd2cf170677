/**
 * The read-only verify role on a real PostgreSQL: the access plan, rendered as the SQL the
 * postgresql provider runs and applied by the migrator, lets it read the migrating table and the
 * tandem state (so `tandem verify` works as it) and nothing else: 42501 on INSERT, UPDATE, DELETE
 * and DDL, in the app's schema and in the state schema. And the roles check (`tandem check-roles`,
 * what `tandem:manageRoles: false` runs before anything) passes on exactly these roles and names
 * what is wrong with roles a DBA set up otherwise.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderAccessSql } from '../phases/sql/access-sql';
import { planAccess } from '../phases/sql/access-plan';
import { checkRoles } from '../executor/role-check';
import { loadSpecFile } from '../executor/spec-file';
import { RoleCheckError } from '../phases/sql/role-check';
import { freshDatabase, sql, withClient } from './db';
import { runCli } from './cli-run';
import { SPLIT_FULL_NAME_SPEC } from './stack-run';

const suffix = `${process.pid}_${Date.now().toString(36)}`;
const MIGRATOR = `tv_migrator_${suffix}`;
const APP = `tv_app_${suffix}`;
const VERIFY = `tv_verify_${suffix}`;

function as(url: string, role: string): string {
  const u = new URL(url);
  u.username = role;
  u.password = 'unused-trust-auth';
  return u.toString();
}

async function outcome(url: string, statement: string): Promise<string> {
  try {
    await sql(url, statement);
    return 'ok';
  } catch (err: any) {
    return err.code ?? String(err);
  }
}

const specFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-verify-role-')), 'split-full-name.yaml');
fs.writeFileSync(specFile, SPLIT_FULL_NAME_SPEC);
const spec = loadSpecFile(specFile);

/** A database with the customers table owned by a fresh migrator; returns admin and migrator URLs. */
async function database(prefix: string, migrator: string): Promise<{ admin: string; migrator: string }> {
  const admin = await freshDatabase(prefix);
  const dbName = decodeURIComponent(new URL(admin).pathname.slice(1));
  await sql(
    admin,
    `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${migrator}') THEN CREATE ROLE "${migrator}" LOGIN CREATEROLE; END IF; END $$;
    ALTER DATABASE "${dbName}" OWNER TO "${migrator}";`,
  );
  const m = as(admin, migrator);
  await sql(
    m,
    `CREATE TABLE customers (id serial PRIMARY KEY, full_name text);
    INSERT INTO customers (full_name) VALUES ('Ada Lovelace'), ('Alan Turing');`,
  );
  return { admin, migrator: m };
}

let admin: string;
let migrator: string;
let verify: string;

beforeAll(async () => {
  ({ admin, migrator } = await database('verifyrole', MIGRATOR));
  verify = as(admin, VERIFY);
  const plan = planAccess({
    schema: 'public',
    migratorRole: MIGRATOR,
    appRole: APP,
    verify: { role: VERIFY, table: 'customers' },
  });
  await withClient(migrator, async (c) => {
    for (const statement of renderAccessSql(plan, { [APP]: 'app-password', [VERIFY]: 'verify-password' }))
      await c.query(statement);
  });
  // expand as the migrator: it creates tandem.migrations, which the verify role reads by default privilege.
  const r = await runCli(['expand', specFile, '--json'], { DATABASE_URL: migrator });
  expect(r.code).toBe(0);
  expect((await runCli(['backfill', specFile, '--json'], { DATABASE_URL: migrator })).code).toBe(0);
});

describe('the verify role', () => {
  it.each([
    ['SELECT the table', `SELECT count(*) FROM customers`],
    ['SELECT the state', `SELECT name, step FROM tandem.migrations`],
  ])('can %s', async (_label, statement) => {
    expect(await outcome(verify, statement)).toBe('ok');
  });

  it.each([
    ['INSERT', `INSERT INTO customers (full_name) VALUES ('Eve')`],
    ['UPDATE', `UPDATE customers SET full_name = 'x'`],
    ['DELETE', `DELETE FROM customers`],
    ['TRUNCATE', `TRUNCATE customers`],
    ['ALTER TABLE', `ALTER TABLE customers ADD COLUMN x int`],
    ['CREATE TABLE', `CREATE TABLE verify_owned (id int)`],
    ['CREATE INDEX', `CREATE INDEX ON customers (full_name)`],
    ['DROP TABLE', `DROP TABLE customers`],
    ['UPDATE the state', `UPDATE tandem.migrations SET step = 'contracted'`],
    ['DELETE the state', `DELETE FROM tandem.migrations`],
    ['CREATE TABLE in the state schema', `CREATE TABLE tandem.x (id int)`],
    ['CREATE SCHEMA', `CREATE SCHEMA verify_schema`],
  ])('is refused %s (42501)', async (_label, statement) => {
    expect(await outcome(verify, statement)).toBe('42501');
  });

  it('runs tandem verify, also for an app version', async () => {
    const r = await runCli(['verify', specFile, '--json'], { DATABASE_URL: verify });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, step: 'backfilled' });
    const forApp = await runCli(['verify', specFile, '--for-app', 'v2', '--json'], { DATABASE_URL: verify });
    expect(forApp.code).toBe(0);
    expect(JSON.parse(forApp.stdout)).toMatchObject({ ok: true, forApp: 'v2' });
  });

  it('passes the roles check, and so does the app role', async () => {
    const report = await checkRoles(spec, { databaseUrl: migrator, appRole: APP, verifyRole: VERIFY });
    expect(report).toEqual({ ok: true, table: 'public.customers', appRole: APP, verifyRole: VERIFY, problems: [] });
    const cli = await runCli(['check-roles', specFile, '--app-role', APP, '--verify-role', VERIFY, '--json'], {
      DATABASE_URL: migrator,
    });
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, problems: [] });
  });
});

describe('the roles check on roles set up elsewhere', () => {
  /** A database where the DBA set up the roles, then `tamper` broke something. */
  async function checked(
    tamper: (names: { app: string; verify: string; admin: string; migrator: string }) => string,
    withState = true,
  ) {
    const s = `${suffix}_${Math.random().toString(36).slice(2, 7)}`;
    const names = { app: `tc_app_${s}`, verify: `tc_verify_${s}` };
    const db = await database('rolecheck', `tc_mig_${s}`);
    const plan = planAccess({
      schema: 'public',
      migratorRole: `tc_mig_${s}`,
      appRole: names.app,
      verify: { role: names.verify, table: 'customers' },
    });
    const statements = renderAccessSql(plan, {}).filter((st) => withState || !st.includes('"tandem"'));
    await withClient(db.migrator, async (c) => {
      for (const st of statements) await c.query(st);
    });
    const extra = tamper({ ...names, ...db });
    if (extra) await sql(db.admin, extra);
    return checkRoles(spec, { databaseUrl: db.migrator, appRole: names.app, verifyRole: names.verify });
  }

  it.each([
    [
      'app role missing',
      (n: any) => `DROP OWNED BY "${n.app}"; DROP ROLE "${n.app}"`,
      'app',
      'missing',
      'does not exist',
    ],
    [
      'app lacks UPDATE',
      (n: any) => `REVOKE UPDATE ON customers FROM "${n.app}"`,
      'app',
      'no-dml',
      'lacks UPDATE on public.customers',
    ],
    [
      'app may CREATE',
      (n: any) => `GRANT CREATE ON SCHEMA public TO "${n.app}"`,
      'app',
      'can-create',
      'has CREATE on schema public',
    ],
    [
      'app owns a table',
      (n: any) => `CREATE TABLE app_table (id int); ALTER TABLE app_table OWNER TO "${n.app}"`,
      'app',
      'owns-objects',
      'owns 1 object (table app_table)',
    ],
    [
      'app is a member of the owner',
      (n: any) => `GRANT "${n.migrator.match(/\/\/([^:]+):/)[1]}" TO "${n.app}"`,
      'app',
      'member-of-owner',
      'is a member of the owner of public.customers',
    ],
    [
      'app may TRUNCATE',
      (n: any) => `GRANT TRUNCATE ON customers TO "${n.app}"`,
      'app',
      'extra-privilege',
      'has TRUNCATE',
    ],
    [
      'app lacks the sequence',
      (n: any) => `REVOKE USAGE ON SEQUENCE customers_id_seq FROM "${n.app}"`,
      'app',
      'no-sequence-usage',
      'customers_id_seq',
    ],
    ['app is a superuser', (n: any) => `ALTER ROLE "${n.app}" SUPERUSER`, 'app', 'attributes', 'has SUPERUSER'],
    [
      'verify may INSERT',
      (n: any) => `GRANT INSERT ON customers TO "${n.verify}"`,
      'verify',
      'can-write',
      'has INSERT on public.customers; verify is read-only',
    ],
    [
      'verify cannot read the table',
      (n: any) => `REVOKE SELECT ON customers FROM "${n.verify}"`,
      'verify',
      'no-select',
      'lacks SELECT on public.customers',
    ],
    ['verify cannot log in', (n: any) => `ALTER ROLE "${n.verify}" NOLOGIN`, 'verify', 'cannot-login', 'cannot log in'],
  ])('%s: names it', async (_label, tamper, kind, code, message) => {
    const report = await checked(tamper);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(
      expect.objectContaining({ kind, code, message: expect.stringContaining(message) }),
    );
    // Only the tampered role is reported; a superuser or the owner's member also gets CREATE everywhere.
    expect([...new Set(report.problems.map((p) => p.kind))]).toEqual([kind]);
    if (!['member-of-owner', 'attributes'].includes(code)) expect(report.problems).toHaveLength(1);
  });

  it('no state schema yet: says the verify role could not read what the first expand creates', async () => {
    const report = await checked(() => '', false);
    expect(report.problems.map((p) => [p.kind, p.code])).toEqual([['verify', 'no-state-schema']]);
  });

  it('the CLI exits 1 with every problem in one sentence, and --json carries them', async () => {
    const bad = await database('rolecheckcli', MIGRATOR);
    const text = await runCli(
      ['check-roles', specFile, '--app-role', 'tc_nobody', '--verify-role', 'tc_nobody_either'],
      { DATABASE_URL: bad.migrator },
    );
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('app role "tc_nobody" does not exist; verify role "tc_nobody_either" does not exist');
    const json = await runCli(['check-roles', specFile, '--app-role', 'tc_nobody', '--json'], {
      DATABASE_URL: bad.migrator,
    });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      problems: [{ kind: 'app', role: 'tc_nobody', code: 'missing' }],
    });
    expect(new RoleCheckError(JSON.parse(json.stdout).problems).message).toMatch(
      /^the database roles are not ready for Tandem: app role "tc_nobody" does not exist$/,
    );
  });

  it('the CLI refuses a missing --app-role as bad input (exit 2)', async () => {
    const r = await runCli(['check-roles', specFile], { DATABASE_URL: migrator });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('needs --app-role ROLE');
  });
});
