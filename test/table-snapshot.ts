import { Client } from 'pg';

/** Everything about a table a migration could change: columns, constraints, triggers, and every row as text. */
export interface TableSnapshot {
  columns: string[];
  constraints: string[];
  triggers: string[];
  rows: string;
}

export async function snapshotTable(client: Client, table: string, orderBy = 'id'): Promise<TableSnapshot> {
  const oid = (await client.query(`SELECT $1::regclass::oid AS oid`, [table])).rows[0].oid;
  const columns = await client.query(
    `SELECT attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END AS c
       FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [oid],
  );
  const constraints = await client.query(
    `SELECT conname || ' ' || pg_get_constraintdef(oid) AS c FROM pg_constraint WHERE conrelid = $1 ORDER BY conname`,
    [oid],
  );
  const triggers = await client.query(
    `SELECT tgname FROM pg_trigger WHERE tgrelid = $1 AND NOT tgisinternal ORDER BY tgname`,
    [oid],
  );
  const rows = await client.query(
    `SELECT coalesce(json_agg(t ORDER BY ${orderBy})::text, '[]') AS rows FROM ${table} t`,
  );
  return {
    columns: columns.rows.map((r) => r.c),
    constraints: constraints.rows.map((r) => r.c),
    triggers: triggers.rows.map((r) => r.tgname),
    rows: rows.rows[0].rows,
  };
}

export async function columnNames(client: Client, table: string): Promise<string[]> {
  const r = await client.query(
    `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [table],
  );
  return r.rows.map((x) => x.attname);
}
