import { Client } from 'pg';

/**
 * Everything object operations could change in a schema: tables, columns with their defaults and
 * NULL-ness, indexes (with validity), constraints (with validation), views, triggers, comments.
 */
export async function snapshotSchema(client: Client, schema = 'public'): Promise<Record<string, string[]>> {
  const q = async (text: string) => (await client.query(text, [schema])).rows.map((r) => r.x as string);
  return {
    tables: await q(
      `SELECT relname || ' ' || relkind::text || coalesce(' ' || obj_description(oid, 'pg_class'), '') AS x FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'v', 'p') ORDER BY 1`,
    ),
    columns: await q(
      `SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') AS x
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1`,
    ),
    indexes: await q(
      `SELECT pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END AS x FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = $1::regnamespace ORDER BY 1`,
    ),
    constraints: await q(
      `SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) || CASE WHEN convalidated THEN '' ELSE ' NOT VALID' END AS x FROM pg_constraint WHERE connamespace = $1::regnamespace ORDER BY 1`,
    ),
    triggers: await q(
      `SELECT tgrelid::regclass::text || ' ' || tgname AS x FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = $1::regnamespace AND NOT tgisinternal ORDER BY 1`,
    ),
  };
}

export async function indexState(client: Client, name: string): Promise<'valid' | 'invalid' | 'absent'> {
  const r = await client.query(
    `SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1`,
    [name],
  );
  return r.rows.length ? (r.rows[0].indisvalid ? 'valid' : 'invalid') : 'absent';
}
