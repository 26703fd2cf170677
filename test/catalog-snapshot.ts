import { Client } from 'pg';

/**
 * What a schema migration is meant to leave in one table, as the catalog says it: each column
 * with its type, NOT NULL, default, identity and comment; each constraint by name with its
 * definition; each index by name with its definition; the replica identity; the table comment;
 * the triggers (none is expected once a migration is complete). Keys are names, so two snapshots
 * compare regardless of column order (a column Tandem replaces comes back at the end).
 */
export interface TableShape {
  columns: Record<string, string>;
  constraints: Record<string, string>;
  indexes: Record<string, string>;
  /** default | full | nothing | index <name> */
  replicaIdentity: string;
  comment: string | null;
  triggers: string[];
}

const q = async (c: Client, text: string, values: unknown[]) => (await c.query(text, values)).rows;

/** The table's shape, or null when no table of that name is in the schema. */
export async function snapshotCatalogTable(
  client: Client,
  table: string,
  schema = 'public',
): Promise<TableShape | null> {
  const rel = await q(
    client,
    `SELECT c.oid, c.relreplident, obj_description(c.oid, 'pg_class') AS comment FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [schema, table],
  );
  if (rel.length === 0) return null;
  const { oid, relreplident, comment } = rel[0];
  const columns = await q(
    client,
    `SELECT a.attname AS name,
            format_type(a.atttypid, a.atttypmod)
            || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
            || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
            || CASE a.attidentity WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' ELSE '' END
            || CASE a.attgenerated WHEN 's' THEN ' generated' ELSE '' END
            || coalesce(' comment ' || quote_literal(col_description(a.attrelid, a.attnum)), '') AS d
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped`,
    [oid],
  );
  const constraints = await q(
    client,
    `SELECT conname AS name, pg_get_constraintdef(oid) || CASE WHEN convalidated THEN '' ELSE ' NOT VALID' END AS d FROM pg_constraint WHERE conrelid = $1`,
    [oid],
  );
  const indexes = await q(
    client,
    `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END AS d, i.indisreplident
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1`,
    [oid],
  );
  const triggers = await q(
    client,
    `SELECT tgname FROM pg_trigger WHERE tgrelid = $1 AND NOT tgisinternal ORDER BY tgname`,
    [oid],
  );
  const byName = (rows: { name: string; d: string }[]) =>
    Object.fromEntries(rows.map((r) => [r.name, r.d]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const identityIndex = indexes.find((i) => i.indisreplident)?.name;
  const replicaIdentity =
    { d: 'default', f: 'full', n: 'nothing', i: `index ${identityIndex}` }[relreplident as string] ?? relreplident;
  return {
    columns: byName(columns),
    constraints: byName(constraints),
    indexes: byName(indexes),
    replicaIdentity,
    comment: comment ?? null,
    triggers: triggers.map((t) => t.tgname),
  };
}

/** The labels of an enum type, in order, or null when there is no such type. */
export async function enumLabels(client: Client, type: string, schema = 'public'): Promise<string[] | null> {
  const rows = await q(
    client,
    `SELECT e.enumlabel FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid WHERE t.typnamespace = $1::regnamespace AND t.typname = $2 ORDER BY e.enumsortorder`,
    [schema, type],
  );
  return rows.length
    ? rows.map((r) => r.enumlabel)
    : (await q(client, `SELECT 1 FROM pg_type WHERE typnamespace = $1::regnamespace AND typname = $2`, [schema, type]))
          .length
      ? []
      : null;
}
