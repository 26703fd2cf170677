import { randomBytes } from 'crypto';
import { Queryable } from '../app/customer-store';
import { TALK_CUSTOMERS } from '../app/seed-data';
import { quoteIdent, quoteLiteral } from '../phases/sql/identifiers';
import { NameSource } from './british-names';

/** The talk's starting point: one name column, full_name. */
export function customersTableSql(table = 'customers'): string {
  return `CREATE TABLE ${quoteIdent(table)} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  full_name text NOT NULL,
  email text
)`;
}

function emailFor(name: string, n: number): string {
  const local =
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z]+/g, '.')
      .replace(/^\.+|\.+$/g, '') || 'customer';
  return `${local}.${n}@example.co.uk`;
}

/**
 * Insert the talk's customers and then `rows` generated ones, in chunks; returns the ids in
 * insertion order with the names written (every seed is a v1 write of full_name).
 */
export async function seedCustomers(
  db: Queryable,
  rows: number,
  names: NameSource,
  table = 'customers',
): Promise<{ id: string; name: string }[]> {
  const all = [...TALK_CUSTOMERS];
  for (let i = 0; i < rows; i++) all.push(names());
  const seeded: { id: string; name: string }[] = [];
  const chunk = 5000;
  for (let start = 0; start < all.length; start += chunk) {
    const part = all.slice(start, start + chunk);
    const { rows: inserted } = await db.query(
      `INSERT INTO ${quoteIdent(table)} (full_name, email)
       SELECT n, e FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS s(n, e, o) ORDER BY o
       RETURNING id::text AS id, full_name`,
      [part, part.map((n, i) => emailFor(n, start + i))],
    );
    seeded.push(...inserted.map((r) => ({ id: r.id as string, name: r.full_name as string })));
  }
  return seeded;
}

export interface ReleaseKind {
  readonly name: string;
  readonly password: string;
}

/**
 * The role the app connects as: LOGIN with DML on the table only, so the app can never ALTER it
 * (the talk's hard rule). Columns the executor adds later are covered by the table grant.
 */
export async function createAppRole(db: Queryable, name: string, table = 'customers'): Promise<ReleaseKind> {
  const password = randomBytes(18).toString('base64url');
  await db.query(
    `CREATE ROLE ${quoteIdent(name)} LOGIN PASSWORD ${quoteLiteral(password)} NOSUPERUSER NOCREATEDB NOCREATEROLE`,
  );
  await db.query(`GRANT USAGE ON SCHEMA public TO ${quoteIdent(name)}`);
  await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${quoteIdent(table)} TO ${quoteIdent(name)}`);
  return { name, password };
}

/** Remove the app role and its grants in this database. */
export async function dropAppRole(db: Queryable, name: string): Promise<void> {
  await db.query(`DROP OWNED BY ${quoteIdent(name)}`);
  await db.query(`DROP ROLE IF EXISTS ${quoteIdent(name)}`);
}

/** The same server and database, connecting as another role. */
export function urlAs(url: string, role: ReleaseKind): string {
  const u = new URL(url);
  u.username = encodeURIComponent(role.name);
  u.password = encodeURIComponent(role.password);
  return u.toString();
}
