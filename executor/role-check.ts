/**
 * Reads what the catalog says about the app and verify roles (phases/sql/role-check.ts judges it),
 * for stacks whose roles a DBA manages elsewhere. Read-only: it runs as the migrator, in one
 * read-only transaction, and changes nothing.
 */
import { Client } from 'pg';
import { STATE_SCHEMA } from '../phases/sql/access-plan';
import { appRoleProblems, RoleFacts, RoleProblem, verifyRoleProblems } from '../phases/sql/role-check';
import { MigrationSpec } from '../phases/sql/spec';
import { loadTable } from './catalog';
import { connect } from './connection';

export interface RoleCheckOptions {
  readonly databaseUrl: string;
  readonly appRole: string;
  /** Absent: only the app role is checked. */
  readonly verifyRole?: string;
}

export interface RoleCheckReport {
  readonly ok: boolean;
  /** schema.table the privileges were checked on. */
  readonly table: string;
  readonly appRole: string;
  readonly verifyRole?: string;
  readonly problems: readonly RoleProblem[];
}

const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];

function attributesOf(row: {
  rolsuper: boolean;
  rolcreatedb: boolean;
  rolcreaterole: boolean;
  rolbypassrls: boolean;
}): string[] {
  return [
    ...(row.rolsuper ? ['SUPERUSER'] : []),
    ...(row.rolcreatedb ? ['CREATEDB'] : []),
    ...(row.rolcreaterole ? ['CREATEROLE'] : []),
    ...(row.rolbypassrls ? ['BYPASSRLS'] : []),
  ];
}

/** The role's privileges on the table, its schema and the database, and whether it is a member of the table's owner. */
async function tableFacts(client: Client, oid: number, tableOid: number) {
  const t = (
    await client.query(
      `SELECT ${TABLE_PRIVILEGES.map((p, i) => `has_table_privilege($1::oid, c.oid, '${p}') AS p${i}`).join(', ')},
              has_schema_privilege($1::oid, c.relnamespace, 'USAGE') AS schema_usage,
              has_schema_privilege($1::oid, c.relnamespace, 'CREATE') AS schema_create,
              has_database_privilege($1::oid, current_database(), 'CREATE') AS database_create,
              pg_has_role($1::oid, c.relowner, 'MEMBER') AS member_of_owner
         FROM pg_class c WHERE c.oid = $2`,
      [oid, tableOid],
    )
  ).rows[0];
  return {
    tablePrivileges: TABLE_PRIVILEGES.filter((_, i) => t[`p${i}`]),
    schemaUsage: t.schema_usage as boolean,
    schemaCreate: t.schema_create as boolean,
    databaseCreate: t.database_create as boolean,
    memberOfOwner: t.member_of_owner as boolean,
  };
}

/** How many objects the role owns, and a few of them in this database. */
async function ownedObjects(client: Client, oid: number): Promise<{ ownedCount: number; ownedSample: string[] }> {
  const owned = (
    await client.query(
      `SELECT count(*)::int AS n,
              (array_agg(pg_describe_object(classid, objid, objsubid) ORDER BY objid)
                 FILTER (WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())))[1:3] AS sample
         FROM pg_shdepend WHERE refclassid = 'pg_authid'::regclass AND refobjid = $1 AND deptype = 'o'`,
      [oid],
    )
  ).rows[0];
  return { ownedCount: owned.n, ownedSample: owned.sample ?? [] };
}

/** The table's own sequences (serial, identity) the role may not use. */
async function sequencesWithoutUsage(client: Client, oid: number, tableOid: number): Promise<string[]> {
  const sequences = await client.query(
    `SELECT s.oid::regclass::text AS name FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
      WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = $2 AND d.deptype IN ('a', 'i')
        AND CASE WHEN s.relkind = 'S' THEN NOT has_sequence_privilege($1::oid, s.oid, 'USAGE') ELSE false END ORDER BY 1`,
    [oid, tableOid],
  );
  return sequences.rows.map((x) => x.name);
}

/** What the role may do in the state schema (null when there is none yet). */
async function stateSchemaFacts(client: Client, oid: number): Promise<RoleFacts['state']> {
  const stateOid = (await client.query(`SELECT oid::int8 AS oid FROM pg_namespace WHERE nspname = $1`, [STATE_SCHEMA]))
    .rows[0]?.oid;
  if (stateOid === undefined) return null;
  const s = (
    await client.query(
      `SELECT has_schema_privilege($1::oid, $2::oid, 'USAGE') AS usage, has_schema_privilege($1::oid, $2::oid, 'CREATE') AS create,
              EXISTS (SELECT 1 FROM pg_default_acl d, aclexplode(d.defaclacl) a
                       WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND d.defaclobjtype = 'r'
                         AND d.defaclnamespace IN (0, $2::oid) AND a.grantee IN ($1::oid, 0) AND a.privilege_type = 'SELECT') AS future`,
      [oid, stateOid],
    )
  ).rows[0];
  const tables = await client.query(
    `SELECT c.oid::regclass::text AS name, has_table_privilege($1::oid, c.oid, 'SELECT') AS can_read,
            ${WRITES.map((p) => `has_table_privilege($1::oid, c.oid, '${p}')`).join(' OR ')} AS can_write
       FROM pg_class c WHERE c.relnamespace = $2::oid AND c.relkind IN ('r', 'p') ORDER BY 1`,
    [oid, stateOid],
  );
  return {
    usage: s.usage,
    create: s.create,
    hasTables: tables.rows.length > 0,
    unreadableTables: tables.rows.filter((x) => !x.can_read).map((x) => x.name),
    writableTables: tables.rows.filter((x) => x.can_write).map((x) => x.name),
    futureTablesReadable: s.future,
  };
}

async function roleFacts(client: Client, role: string, tableOid: number): Promise<RoleFacts> {
  const r = await client.query(
    `SELECT oid::int8 AS oid, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = $1`,
    [role],
  );
  const empty = {
    attributes: [],
    tablePrivileges: [],
    schemaUsage: false,
    schemaCreate: false,
    databaseCreate: false,
    memberOfOwner: false,
    ownedCount: 0,
    ownedSample: [],
    sequencesWithoutUsage: [],
    state: null,
  };
  if (!r.rows[0]) return { role, exists: false, canLogin: false, ...empty };
  const row = r.rows[0];
  const oid = Number(row.oid);
  return {
    role,
    exists: true,
    canLogin: row.rolcanlogin,
    attributes: attributesOf(row),
    ...(await tableFacts(client, oid, tableOid)),
    ...(await ownedObjects(client, oid)),
    sequencesWithoutUsage: await sequencesWithoutUsage(client, oid, tableOid),
    state: await stateSchemaFacts(client, oid),
  };
}

const WRITES = ['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'];

/** Check the app (and verify) role on the spec's table; `ok` false lists every problem found. */
export async function checkRoles(spec: MigrationSpec, options: RoleCheckOptions): Promise<RoleCheckReport> {
  const client = await connect(options.databaseUrl, 'tandem check-roles');
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const table = await loadTable(client, spec);
    const label = `${table.schema}.${table.name}`;
    const problems = appRoleProblems(await roleFacts(client, options.appRole, table.oid), label);
    if (options.verifyRole !== undefined)
      problems.push(...verifyRoleProblems(await roleFacts(client, options.verifyRole, table.oid), label));
    return {
      ok: problems.length === 0,
      table: label,
      appRole: options.appRole,
      ...(options.verifyRole !== undefined ? { verifyRole: options.verifyRole } : {}),
      problems,
    };
  } finally {
    await client.query('COMMIT').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
