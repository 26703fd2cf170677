import { Client } from 'pg';
import { quoteIdent } from '../phases/sql/identifiers';
import { PrivilegeError, RowsHiddenError, TableShapeError } from './errors';

/**
 * Checks on the live table that run before any step touches it. Each refuses with a sentence
 * naming what it found and what to do; none of them changes anything.
 */

interface TreeRel {
  oid: number;
  label: string;
  kind: string;
  owner: string;
  owned: boolean;
  rls: boolean;
  force: boolean;
  isRoot: boolean;
}

/** The table and, when it is partitioned, every partition (pg_partition_tree returns nothing for a plain table). */
async function partitionTree(client: Client, tableOid: number): Promise<TreeRel[]> {
  const r = await client.query(
    `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind, pg_get_userbyid(c.relowner) AS owner,
            pg_has_role(current_user, c.relowner, 'USAGE') AS owned, c.relrowsecurity AS rls, c.relforcerowsecurity AS force,
            c.oid = $1::oid AS is_root
       FROM (SELECT $1::oid AS relid UNION SELECT relid FROM pg_partition_tree($1::oid::regclass)) t
       JOIN pg_class c ON c.oid = t.relid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      ORDER BY c.oid <> $1::oid, c.relname`,
    [tableOid],
  );
  return r.rows.map((x) => ({
    oid: Number(x.oid),
    label: `${x.schema}.${x.name}`,
    kind: x.kind,
    owner: x.owner,
    owned: x.owned,
    rls: x.rls,
    force: x.force,
    isRoot: x.is_root,
  }));
}

/**
 * Refuse unless the migrator sees every row of the table and its partitions: row-level security
 * applies to it unless it is a superuser, has BYPASSRLS, or owns the table without FORCE ROW
 * LEVEL SECURITY. RLS enabled with no policy for the migrator hides every row (default deny).
 * Executor sessions also run with row_security = off, so PostgreSQL raises an error instead of
 * filtering if a policy would apply anyway.
 */
export async function checkRowVisibility(client: Client, tableOid: number, label: string): Promise<void> {
  const me = (
    await client.query(
      `SELECT current_user AS name, rolsuper AS su, rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user`,
    )
  ).rows[0];
  if (me.su || me.bypass) return;
  const hiding = (await partitionTree(client, tableOid)).filter((rel) => rel.rls && (rel.force || !rel.owned));
  if (hiding.length === 0) return;
  const policies: string[] = [];
  for (const rel of hiding) {
    const p = await client.query(
      `SELECT polname AS name,
              CASE polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS cmd,
              CASE WHEN polroles = '{0}' THEN 'PUBLIC' ELSE (SELECT string_agg(pg_get_userbyid(r), ', ' ORDER BY 1) FROM unnest(polroles) r) END AS roles
         FROM pg_policy WHERE polrelid = $1::oid ORDER BY polname`,
      [rel.oid],
    );
    const why =
      rel.force && rel.owned
        ? 'FORCE ROW LEVEL SECURITY applies it to the owner'
        : `the migrator does not own it (owner ${rel.owner})`;
    const where = rel.isRoot ? rel.label : `partition ${rel.label}`;
    if (p.rows.length === 0) policies.push(`${where}: enabled with no policy, which hides every row; ${why}`);
    else
      policies.push(
        `${where}: ${p.rows.map((x) => `policy "${x.name}" (FOR ${x.cmd} TO ${x.roles})`).join(', ')}; ${why}`,
      );
  }
  const forcedOnly = hiding.every((rel) => rel.force && rel.owned);
  const role = quoteIdent(me.name);
  const remedy = forcedOnly
    ? `run ${hiding.map((rel) => `ALTER TABLE ${rel.label} NO FORCE ROW LEVEL SECURITY`).join('; ')} for the migration, or ALTER ROLE ${role} BYPASSRLS`
    : `grant the migrator ALTER ROLE ${role} BYPASSRLS (as a superuser), or run the migration as the table owner without FORCE ROW LEVEL SECURITY`;
  throw new RowsHiddenError(label, me.name, policies, remedy);
}

/**
 * Refuse tables the executor could not keep in sync as a whole: inheritance children (ALTER,
 * backfill and verify recurse into them, the sync trigger does not), a table that inherits from
 * another, a partition on its own (migrate its partitioned table), foreign partitions, and
 * rewrite rules (a DO INSTEAD rule can make the backfill's UPDATE do nothing).
 * Partitioned tables work: ALTER recurses, the trigger is cloned to every partition.
 */
export async function checkTableShape(client: Client, tableOid: number, label: string): Promise<void> {
  const children = await client.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE i.inhparent = $1::oid AND NOT c.relispartition ORDER BY 1`,
    [tableOid],
  );
  if (children.rows.length) {
    const names = children.rows.map((x) => x.name);
    throw new TableShapeError(
      label,
      names,
      `${label} has inheritance children (${names.join(', ')}): ALTER TABLE, the backfill and verify would reach their rows but the sync trigger does not fire for writes to them, so those writes would not be synced; Tandem refuses inheritance (declarative partitioning works)`,
    );
  }
  const self = (
    await client.query(
      `SELECT c.relispartition AS is_partition,
              (SELECT string_agg(pn.nspname || '.' || p.relname, ', ' ORDER BY 1) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) AS parents
         FROM pg_class c WHERE c.oid = $1::oid`,
      [tableOid],
    )
  ).rows[0];
  if (self.is_partition) {
    throw new TableShapeError(
      label,
      [self.parents],
      `${label} is a partition of ${self.parents}: run the migration on the partitioned table ${self.parents}, which covers every partition`,
    );
  }
  if (self.parents) {
    throw new TableShapeError(
      label,
      [self.parents],
      `${label} inherits from ${self.parents}: rows written through the parent are not synced by a trigger on the child, and inherited columns cannot be dropped; Tandem refuses inheritance`,
    );
  }
  const foreign = (await partitionTree(client, tableOid)).filter((rel) => rel.kind === 'f');
  if (foreign.length) {
    const names = foreign.map((rel) => rel.label);
    throw new TableShapeError(
      label,
      names,
      `${label} has foreign-table partitions (${names.join(', ')}), which the sync trigger and backfill cannot cover; Tandem refuses them`,
    );
  }
  const rules = await client.query<{ name: string }>(
    `SELECT rulename AS name FROM pg_rewrite WHERE ev_class = $1::oid AND rulename <> '_RETURN' ORDER BY 1`,
    [tableOid],
  );
  if (rules.rows.length) {
    const names = rules.rows.map((x) => x.name);
    throw new TableShapeError(
      label,
      names,
      `${label} has rewrite rules (${names.join(', ')}), which can turn the backfill's and the trigger's writes into something else; drop them (DROP RULE ... ON ${label}) or migrate without Tandem`,
    );
  }
}

/**
 * The privileges a changing step needs, named before anything runs: ownership of the table and
 * of every partition (ALTER TABLE needs it, PostgreSQL cannot grant it), and CREATE on the
 * database when the state schema does not exist yet.
 */
export async function checkPrivileges(client: Client, tableOid: number, label: string): Promise<void> {
  const me = (await client.query(`SELECT current_user AS name, current_database() AS db`)).rows[0];
  const role = quoteIdent(me.name);
  const notOwned = (await partitionTree(client, tableOid)).filter((rel) => !rel.owned);
  if (notOwned.length) {
    const rel = notOwned[0];
    const what = rel.isRoot ? label : `partition ${rel.label} of ${label}`;
    throw new PrivilegeError(
      me.name,
      'ownership',
      `the migrator role "${me.name}" does not own ${what} (owner: ${rel.owner}); ALTER TABLE and CREATE TRIGGER need ownership, which cannot be granted: run the migration as ${quoteIdent(rel.owner)}, or GRANT ${quoteIdent(rel.owner)} TO ${role}`,
    );
  }
  const state = (
    await client.query(
      `SELECT (SELECT oid FROM pg_namespace WHERE nspname = 'tandem') IS NOT NULL AS exists,
              has_database_privilege(current_database(), 'CREATE') AS can_create`,
    )
  ).rows[0];
  if (!state.exists && !state.can_create) {
    throw new PrivilegeError(
      me.name,
      'CREATE on the database',
      `the migrator role "${me.name}" has no CREATE privilege on database ${me.db}, which expand needs to create the tandem state schema: GRANT CREATE ON DATABASE ${quoteIdent(me.db)} TO ${role}, or have an administrator run CREATE SCHEMA tandem AUTHORIZATION ${role}`,
    );
  }
}
