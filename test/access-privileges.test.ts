/**
 * Hard rule 2 on a real PostgreSQL: the access plan, rendered as the SQL the postgresql provider
 * runs and applied by the migrator (not a superuser), leaves the app role with DML only.
 */
import { renderAccessSql } from '../phases/sql/access-sql';
import { planAccess } from '../phases/sql/access-plan';
import { freshDatabase, sql, withClient } from './db';

const suffix = `${process.pid}_${Date.now().toString(36)}`;
const MIGRATOR = `tandem_migrator_${suffix}`;
const APP = `tandem_app_${suffix}`;

function as(url: string, role: string): string {
  const u = new URL(url);
  u.username = role;
  u.password = 'unused-trust-auth';
  return u.toString();
}

/** The SQLSTATE a statement fails with, or 'ok'. */
async function outcome(url: string, statement: string): Promise<string> {
  try {
    await sql(url, statement);
    return 'ok';
  } catch (err: any) {
    return err.code ?? String(err);
  }
}

let admin: string;
let migrator: string;
let app: string;

beforeAll(async () => {
  admin = await freshDatabase('access');
  const dbName = decodeURIComponent(new URL(admin).pathname.slice(1));
  // The database team's role: CREATEROLE, owns the database (so, as pg_database_owner, the public schema).
  await sql(admin, `CREATE ROLE "${MIGRATOR}" LOGIN CREATEROLE; ALTER DATABASE "${dbName}" OWNER TO "${MIGRATOR}";`);
  migrator = as(admin, MIGRATOR);
  app = as(admin, APP);
  await sql(
    migrator,
    `CREATE TABLE customers (id serial PRIMARY KEY, full_name text NOT NULL);
    INSERT INTO customers (full_name) VALUES ('Ada Lovelace'), ('Alan Turing');`,
  );
  const plan = planAccess({ schema: 'public', migratorRole: MIGRATOR, appRole: APP });
  await withClient(migrator, async (c) => {
    for (const statement of renderAccessSql(plan, { [APP]: 'app-password' })) await c.query(statement);
  });
});

describe('the app role', () => {
  it.each([
    ['SELECT', `SELECT count(*) FROM customers`],
    ['INSERT with a serial key', `INSERT INTO customers (full_name) VALUES ('John Vin')`],
    ['UPDATE', `UPDATE customers SET full_name = 'Ada King' WHERE full_name = 'Ada Lovelace'`],
    ['DELETE', `DELETE FROM customers WHERE full_name = 'Alan Turing'`],
  ])('can %s', async (_label, statement) => {
    expect(await outcome(app, statement)).toBe('ok');
  });

  it.each([
    ['ALTER TABLE', `ALTER TABLE customers ADD COLUMN first_name text`],
    ['CREATE TABLE', `CREATE TABLE app_owned (id int)`],
    ['DROP TABLE', `DROP TABLE customers`],
    ['TRUNCATE', `TRUNCATE customers`],
    ['CREATE INDEX', `CREATE INDEX ON customers (full_name)`],
    [
      'CREATE TRIGGER',
      `CREATE TRIGGER t BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()`,
    ],
    ['CREATE SCHEMA', `CREATE SCHEMA app_schema`],
    ['taking ownership', `ALTER TABLE customers OWNER TO CURRENT_USER`],
  ])('is refused %s (42501, insufficient privilege)', async (_label, statement) => {
    expect(await outcome(app, statement)).toBe('42501');
  });

  it('has no superuser, CREATEDB or CREATEROLE attribute and is a member of no role', async () => {
    const [row] = await sql(
      admin,
      `SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin,
      (SELECT count(*)::int FROM pg_auth_members WHERE member = r.oid) AS memberships FROM pg_roles r WHERE rolname = $1`,
      [APP],
    );
    expect(row).toEqual({
      rolsuper: false,
      rolcreatedb: false,
      rolcreaterole: false,
      rolcanlogin: true,
      memberships: 0,
    });
  });

  it('owns nothing', async () => {
    const [row] = await sql(
      admin,
      `SELECT count(*)::int AS n FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
      [APP],
    );
    expect(row.n).toBe(0);
  });
});

describe('the migrator', () => {
  it('can ALTER TABLE, and the app reads and writes the new column (table grants cover it)', async () => {
    expect(await outcome(migrator, `ALTER TABLE customers ADD COLUMN last_name text`)).toBe('ok');
    expect(await outcome(app, `UPDATE customers SET last_name = 'Vin' WHERE full_name = 'John Vin'`)).toBe('ok');
    expect(await outcome(app, `ALTER TABLE customers DROP COLUMN last_name`)).toBe('42501');
  });

  it('creates tables the app gets DML on through default privileges, and still no DDL', async () => {
    expect(await outcome(migrator, `CREATE TABLE orders (id serial PRIMARY KEY, customer_id int NOT NULL)`)).toBe('ok');
    expect(await outcome(app, `INSERT INTO orders (customer_id) VALUES (1)`)).toBe('ok');
    expect(await outcome(app, `SELECT * FROM orders`)).toBe('ok');
    expect(await outcome(app, `ALTER TABLE orders ADD COLUMN note text`)).toBe('42501');
  });
});
