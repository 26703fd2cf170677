import { Client } from 'pg';
import { CatalogError } from '../phases/errors';
import { ColumnGrant, ColumnProperties, IdentityProperties, QualifiedName, TableInfo } from '../phases/sql/operations';
import { MigrationSpec } from '../phases/sql/spec';

/**
 * Per column, what a column built in its place must carry over (ColumnProperties): the collation
 * when it is not the type's, identity and its sequence, generated, what generated columns read it,
 * an owned sequence (serial), comment, storage and compression, statistics target, options, and
 * column privileges.
 */
const COLUMN_PROPERTIES = `
            CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN
              (SELECT json_build_object('schema', n.nspname, 'name', co.collname) FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace WHERE co.oid = a.attcollation) END AS collation,
            CASE WHEN a.attidentity <> '' THEN
              (SELECT json_build_object('kind', a.attidentity, 'sequence', json_build_object('schema', n.nspname, 'name', sc.relname),
                      'increment', s.seqincrement::text, 'min', s.seqmin::text, 'max', s.seqmax::text, 'start', s.seqstart::text, 'cache', s.seqcache::text, 'cycle', s.seqcycle)
                 FROM pg_depend x JOIN pg_class sc ON sc.oid = x.objid JOIN pg_namespace n ON n.oid = sc.relnamespace JOIN pg_sequence s ON s.seqrelid = sc.oid
                WHERE x.classid = 'pg_class'::regclass AND x.refclassid = 'pg_class'::regclass AND x.refobjid = a.attrelid AND x.refobjsubid = a.attnum AND x.deptype = 'i' AND sc.relkind = 'S'
                LIMIT 1) END AS identity,
            a.attgenerated <> '' AS generated,
            ARRAY(SELECT g.attname::text FROM pg_depend x JOIN pg_attrdef ad ON ad.oid = x.objid JOIN pg_attribute g ON g.attrelid = ad.adrelid AND g.attnum = ad.adnum
                   WHERE x.classid = 'pg_attrdef'::regclass AND x.refclassid = 'pg_class'::regclass AND x.refobjid = a.attrelid
                     AND x.refobjsubid = a.attnum AND g.attnum <> a.attnum AND g.attgenerated <> '' ORDER BY g.attnum) AS used_by_generated,
            (SELECT json_build_object('schema', n.nspname, 'name', sc.relname)
               FROM pg_depend x JOIN pg_class sc ON sc.oid = x.objid JOIN pg_namespace n ON n.oid = sc.relnamespace
              WHERE x.classid = 'pg_class'::regclass AND x.refclassid = 'pg_class'::regclass AND x.refobjid = a.attrelid AND x.refobjsubid = a.attnum
                AND x.deptype = 'a' AND sc.relkind = 'S' LIMIT 1) AS owned_sequence,
            col_description(a.attrelid, a.attnum) AS comment,
            CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage,
            nullif(a.attcompression::text, '') AS compression,
            nullif(a.attstattarget, -1) AS statistics,
            a.attoptions AS options,
            (SELECT json_agg(json_build_object('grantee', (SELECT r.rolname FROM pg_roles r WHERE r.oid = e.grantee), 'privilege', e.privilege_type, 'grantable', e.is_grantable))
               FROM aclexplode(a.attacl) e) AS grants`;

interface ColumnRow {
  name: string;
  type: string;
  not_null: boolean;
  has_default: boolean;
  default_expr: string | null;
  volatile_default: boolean;
  collation: QualifiedName | null;
  identity: IdentityProperties | null;
  generated: boolean;
  used_by_generated: string[];
  owned_sequence: QualifiedName | null;
  comment: string | null;
  storage: string | null;
  compression: string | null;
  statistics: number | null;
  options: string[] | null;
  grants: ColumnGrant[] | null;
}

/** The properties set on the column, and only those (an unset property is absent, so plans stay as they were). */
function columnProperties(c: ColumnRow): ColumnProperties | undefined {
  const p: ColumnProperties = {
    ...(c.collation ? { collation: c.collation } : {}),
    ...(c.identity ? { identity: c.identity } : {}),
    ...(c.generated ? { generated: true } : {}),
    ...(c.used_by_generated.length ? { usedByGenerated: c.used_by_generated } : {}),
    ...(c.owned_sequence ? { ownedSequence: c.owned_sequence } : {}),
    ...(c.comment !== null ? { comment: c.comment } : {}),
    ...(c.storage ? { storage: c.storage } : {}),
    ...(c.compression ? { compression: c.compression } : {}),
    ...(c.statistics !== null ? { statistics: c.statistics } : {}),
    ...(c.options?.length ? { options: c.options } : {}),
    ...(c.grants?.length ? { grants: c.grants } : {}),
  };
  return Object.keys(p).length ? p : undefined;
}

/** The live table the spec names: its columns (format_type) and primary key, or a CatalogError (exit 2). */
export async function loadTable(client: Client, spec: MigrationSpec): Promise<TableInfo> {
  const target = spec.schema ? `${spec.schema}.${spec.table}` : spec.table;
  const found = await client.query<{ oid: number; schema: string; name: string; kind: string }>(
    spec.schema
      ? `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2`
      : `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.oid = to_regclass(quote_ident($1))`,
    spec.schema ? [spec.schema, spec.table] : [spec.table],
  );
  const row = found.rows[0];
  if (!row) throw new CatalogError('table', target, `table ${target} does not exist`);
  if (row.kind !== 'r' && row.kind !== 'p')
    throw new CatalogError('table', target, `${target} is not a table (relkind ${row.kind})`);
  const oid = Number(row.oid);
  const columns = await client.query<ColumnRow>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null, a.atthasdef AS has_default,
            CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS default_expr,
            a.attidentity <> '' OR EXISTS (SELECT 1 FROM pg_depend x JOIN pg_proc p ON p.oid = x.refobjid
                     WHERE x.classid = 'pg_attrdef'::regclass AND x.objid = d.oid AND x.refclassid = 'pg_proc'::regclass AND p.provolatile = 'v') AS volatile_default,
            ${COLUMN_PROPERTIES}
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  );
  const pk = await client.query<{ name: string }>(
    `SELECT a.attname AS name
       FROM pg_index i
       JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisprimary
      ORDER BY k.ord`,
    [oid],
  );
  const cols = columns.rows.map((c) => ({
    name: c.name,
    type: c.type,
    notNull: c.not_null,
    hasDefault: c.has_default,
    ...(c.default_expr !== null ? { defaultExpr: c.default_expr } : {}),
    ...(c.volatile_default ? { volatileDefault: true } : {}),
    ...(columnProperties(c) ? { properties: columnProperties(c) } : {}),
  }));
  return {
    oid,
    schema: row.schema,
    name: row.name,
    columns: cols,
    primaryKey: pk.rows.map((p) => cols.find((c) => c.name === p.name)!),
  };
}

/**
 * What PostgreSQL would drop along with these columns (indexes, constraints, views, sequences
 * they own, ...), besides their own defaults: contract refuses rather than drop them silently.
 */
export async function columnDependents(
  client: Client,
  tableOid: number,
  columns: readonly string[],
  kept: readonly QualifiedName[] = [],
): Promise<{ column: string; object: string }[]> {
  // `kept`: sequences contract re-owns to the new columns (serial), so they are not dropped.
  const r = await client.query<{ column: string; object: string }>(
    `SELECT DISTINCT a.attname AS column, pg_describe_object(d.classid, d.objid, 0) AS object
       FROM pg_depend d
       JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
      WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = $1 AND a.attname = ANY($2::text[])
        AND d.deptype IN ('a', 'n') AND d.classid <> 'pg_attrdef'::regclass
        AND NOT (d.classid = 'pg_class'::regclass AND d.objid IN (
              SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN jsonb_to_recordset($3::jsonb) AS k(schema text, name text) ON k.schema = n.nspname AND k.name = c.relname))
      ORDER BY 1, 2`,
    [tableOid, columns, JSON.stringify(kept)],
  );
  return r.rows;
}

/** Does the trigger exist on the table? */
export async function triggerExists(client: Client, tableOid: number, trigger: string): Promise<boolean> {
  const r = await client.query(`SELECT 1 FROM pg_trigger WHERE tgrelid = $1 AND tgname = $2`, [tableOid, trigger]);
  return (r.rowCount ?? 0) > 0;
}

/** Which of these columns the table has now. */
export async function presentColumns(client: Client, tableOid: number, names: readonly string[]): Promise<Set<string>> {
  const r = await client.query<{ attname: string }>(
    `SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attname = ANY($2::text[])`,
    [tableOid, names],
  );
  return new Set(r.rows.map((x) => x.attname));
}
