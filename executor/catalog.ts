import { Client } from 'pg';
import { CatalogError } from '../phases/errors';
import { TableInfo } from '../phases/sql/operations';
import { MigrationSpec } from '../phases/sql/spec';

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
  if (row.kind !== 'r' && row.kind !== 'p') throw new CatalogError('table', target, `${target} is not a table (relkind ${row.kind})`);
  const oid = Number(row.oid);
  const columns = await client.query<{ name: string; type: string; not_null: boolean; has_default: boolean; default_expr: string | null; volatile_default: boolean }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null, a.atthasdef AS has_default,
            CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS default_expr,
            EXISTS (SELECT 1 FROM pg_depend x JOIN pg_proc p ON p.oid = x.refobjid
                     WHERE x.classid = 'pg_attrdef'::regclass AND x.objid = d.oid AND x.refclassid = 'pg_proc'::regclass AND p.provolatile = 'v') AS volatile_default
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
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
export async function columnDependents(client: Client, tableOid: number, columns: readonly string[]): Promise<{ column: string; object: string }[]> {
  const r = await client.query<{ column: string; object: string }>(
    `SELECT DISTINCT a.attname AS column, pg_describe_object(d.classid, d.objid, 0) AS object
       FROM pg_depend d
       JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
      WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = $1 AND a.attname = ANY($2::text[])
        AND d.deptype IN ('a', 'n') AND d.classid <> 'pg_attrdef'::regclass
      ORDER BY 1, 2`,
    [tableOid, columns],
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
