import { backfill, expand, verify } from '../executor';
import { StateSchemaError } from '../executor/errors';
import { freshDatabase, sql } from './db';
import { runCli } from './cli-run';
import { createCustomers, splitSpec, SPLIT_SPEC_PATH } from './fixtures';
import { asRole, createMigrator, createRole } from './roles';

/**
 * A squatter pre-creates the state schema and table and grants them to PUBLIC; `CREATE ... IF NOT
 * EXISTS` would adopt them and the backfill would run whatever plan the squatter records. The
 * executor refuses a state schema it does not own or that others can write, and derives the plan
 * again from the spec instead of running what it reads back.
 */
describe('a state schema somebody else owns', () => {
  let admin: string;
  let url: string;
  let migrator: string;
  beforeEach(async () => {
    admin = await freshDatabase('squat');
    migrator = await createMigrator(admin);
    url = asRole(admin, migrator);
    await createCustomers(url, 30);
  });

  it("a squatter's schema and table, granted to PUBLIC: expand refuses (exit 1) naming the owner, and nothing runs", async () => {
    const squatter = await createRole(admin, 'squatter');
    await sql(admin, `GRANT CREATE ON DATABASE "${new URL(admin).pathname.slice(1)}" TO "${squatter}"`);
    const squat = asRole(admin, squatter);
    await sql(
      squat,
      `CREATE SCHEMA tandem; GRANT ALL ON SCHEMA tandem TO PUBLIC;
       CREATE TABLE tandem.migrations (name text PRIMARY KEY, table_schema text NOT NULL, table_name text NOT NULL, spec_hash text NOT NULL,
         step text NOT NULL, resolved jsonb NOT NULL, backfill_last_key jsonb, backfill_bound jsonb, backfill_done bigint NOT NULL DEFAULT 0,
         started_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(), history jsonb NOT NULL DEFAULT '[]');
       GRANT ALL ON tandem.migrations TO PUBLIC;`,
    );
    const r = await runCli(['expand', SPLIT_SPEC_PATH, '--json'], { DATABASE_URL: url });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`schema tandem is owned by ${squatter}`));
    expect(r.stderr).toMatch(new RegExp(`tandem.migrations is owned by ${squatter}`));
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      exit_code: 1,
      error: { kind: 'state_untrusted', objects: expect.arrayContaining(['schema tandem', 'tandem.migrations']) },
    });
    const cols = await sql(
      admin,
      `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attname = 'first_name'`,
    );
    expect(cols[0].n).toBe(0);
  });

  it("the migrator's own state, but writable by PUBLIC: every step refuses, naming the grant", async () => {
    await expand(splitSpec(), { databaseUrl: url });
    await sql(url, `GRANT UPDATE ON tandem.migrations TO PUBLIC`);
    await expect(backfill(splitSpec(), { databaseUrl: url })).rejects.toThrow(
      /tandem\.migrations grants UPDATE to PUBLIC/,
    );
    await sql(
      url,
      `REVOKE UPDATE ON tandem.migrations FROM PUBLIC; GRANT UPDATE (resolved) ON tandem.migrations TO PUBLIC`,
    );
    await expect(backfill(splitSpec(), { databaseUrl: url })).rejects.toThrow(
      /tandem\.migrations\.resolved grants UPDATE to PUBLIC/,
    );
    await sql(
      url,
      `REVOKE UPDATE (resolved) ON tandem.migrations FROM PUBLIC; GRANT CREATE ON SCHEMA tandem TO PUBLIC`,
    );
    await expect(verify(splitSpec(), { databaseUrl: url })).rejects.toThrow(/schema tandem grants CREATE to PUBLIC/);
    await sql(url, `REVOKE CREATE ON SCHEMA tandem FROM PUBLIC`);
    expect(await backfill(splitSpec(), { databaseUrl: url })).toMatchObject({ rowsUpdated: 30 });
  });

  it('an object in the schema that another role owns is refused too', async () => {
    await expand(splitSpec(), { databaseUrl: url });
    // Only a superuser can put an object owned by someone else into the migrator's schema.
    await sql(admin, `CREATE FUNCTION tandem.helper() RETURNS int LANGUAGE sql AS 'SELECT 1'`);
    await expect(backfill(splitSpec(), { databaseUrl: url })).rejects.toThrow(
      /function tandem\.helper\(\) is owned by postgres/,
    );
  });

  it("a recorded plan rewritten behind the executor's back is not run: the backfill refuses and no row is touched", async () => {
    await expand(splitSpec(), { databaseUrl: url });
    // The attack of the issue: `up` replaced in the recorded plan (here by the owner itself, as a stand-in for anyone who got write access).
    await sql(
      url,
      `UPDATE tandem.migrations SET resolved = jsonb_set(resolved, '{mappings,0,newColumns,0,up}', to_jsonb('''owned by squatter'''::text))`,
    );
    const err = await backfill(splitSpec(), { databaseUrl: url }).catch((e) => e);
    expect(err).toBeInstanceOf(StateSchemaError);
    expect(err.message).toMatch(/the recorded plan differs from the one the spec gives/);
    const touched = await sql(admin, `SELECT count(*)::int AS n FROM customers WHERE first_name IS NOT NULL`);
    expect(touched[0].n).toBe(0);
  });

  it('a recorded table whose column types no longer match the live table is refused', async () => {
    await expand(splitSpec(), { databaseUrl: url });
    await sql(
      url,
      `UPDATE tandem.migrations SET resolved = jsonb_set(resolved, '{table,columns,1,type}', '"integer"')`,
    );
    await expect(verify(splitSpec(), { databaseUrl: url })).rejects.toThrow(
      /column "full_name" is now of type text, recorded integer/,
    );
  });

  it('a checkpoint that is not a primary key is refused', async () => {
    await expand(splitSpec(), { databaseUrl: url });
    await sql(url, `UPDATE tandem.migrations SET backfill_last_key = '["1", "2"]'`);
    await expect(backfill(splitSpec(), { databaseUrl: url })).rejects.toThrow(
      /the backfill checkpoint is not a primary key/,
    );
  });
});
