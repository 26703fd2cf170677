import { sql } from './db';

let counter = 0;

/** The same database, logged in as another role (the test server trusts loopback). */
export function asRole(url: string, role: string): string {
  const u = new URL(url);
  u.username = role;
  u.password = '';
  return u.toString();
}

/**
 * A new login role, unique in the cluster (roles are not per database), with `attributes`
 * (e.g. NOSUPERUSER BYPASSRLS). Returns its name.
 */
export async function createRole(url: string, prefix: string, attributes = 'NOSUPERUSER'): Promise<string> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`.toLowerCase();
  await sql(url, `CREATE ROLE "${name}" LOGIN ${attributes}`);
  return name;
}

/** A migrator role: no superuser, CREATE on the database (for the state schema) and on schema public. */
export async function createMigrator(url: string, prefix = 'mig', attributes = 'NOSUPERUSER'): Promise<string> {
  const role = await createRole(url, prefix, attributes);
  const db = new URL(url).pathname.slice(1);
  await sql(
    url,
    `GRANT CREATE ON DATABASE "${decodeURIComponent(db)}" TO "${role}"; GRANT ALL ON SCHEMA public TO "${role}"`,
  );
  return role;
}
