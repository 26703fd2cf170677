import { Client } from 'pg';
import { carriedObjectWork, ColumnObject, replacedColumns } from '../phases/sql/plans/carried-objects-sql';
import { ResolvedSpec } from '../phases/sql/spec';
import { droppedIndexDescriptions } from './object-steps';

/**
 * The indexes and constraints of the table that read a column the spec replaces, read live from
 * the catalog at every step while the old column exists (nothing of them is run from the recorded
 * state): their definitions as PostgreSQL prints them, the columns they read, their comments.
 * Primary keys and exclusion constraints are not among them (a primary-key column is refused, an
 * exclusion constraint is not carried), nor another table's foreign keys into the column.
 */
export async function columnObjects(client: Client, resolved: ResolvedSpec): Promise<ColumnObject[]> {
  const old = Object.keys(replacedColumns(resolved));
  if (!old.length || resolved.table.oid === 0) return [];
  const cols = (rel: string, sub: string) =>
    `ARRAY(SELECT DISTINCT a.attname::text FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE d.classid = '${rel}'::regclass AND d.objid = ${sub} AND d.refclassid = 'pg_class'::regclass AND d.refobjid = $1 AND d.refobjsubid > 0 ORDER BY 1)`;
  const r = await client.query<{
    kind: ColumnObject['kind'];
    name: string;
    index_def: string | null;
    constraint_def: string | null;
    is_unique: boolean;
    columns: string[];
    deferrable: boolean;
    deferred: boolean;
    validated: boolean;
    comment: string | null;
    describes: string[];
    on_schema: string | null;
    on_name: string | null;
  }>(
    `SELECT 'index' AS kind, c.relname::text AS name, pg_get_indexdef(i.indexrelid) AS index_def, NULL AS constraint_def, i.indisunique AS is_unique,
            ${cols('pg_class', 'i.indexrelid')} AS columns, false AS deferrable, false AS deferred, true AS validated,
            obj_description(i.indexrelid, 'pg_class') AS comment, ARRAY[pg_describe_object('pg_class'::regclass, i.indexrelid, 0)] AS describes,
            NULL::text AS on_schema, NULL::text AS on_name
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = $1)
     UNION ALL
     SELECT CASE k.contype WHEN 'u' THEN 'unique' WHEN 'c' THEN 'check' ELSE 'foreign_key' END, k.conname::text,
            CASE WHEN k.contype = 'u' THEN pg_get_indexdef(k.conindid) END, pg_get_constraintdef(k.oid), false,
            ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum = ANY(k.conkey) ORDER BY 1),
            k.condeferrable, k.condeferred, k.convalidated, obj_description(k.oid, 'pg_constraint'),
            ARRAY[pg_describe_object('pg_constraint'::regclass, k.oid, 0)] || CASE WHEN k.contype = 'u' THEN ARRAY[pg_describe_object('pg_class'::regclass, k.conindid, 0)] ELSE ARRAY[]::text[] END,
            NULL, NULL
       FROM pg_constraint k
      WHERE k.conrelid = $1 AND k.contype IN ('u', 'c', 'f')
     UNION ALL
     SELECT 'incoming_foreign_key', k.conname::text, NULL, pg_get_constraintdef(k.oid), false,
            ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum = ANY(k.confkey) ORDER BY 1),
            k.condeferrable, k.condeferred, k.convalidated, obj_description(k.oid, 'pg_constraint'),
            ARRAY[pg_describe_object('pg_constraint'::regclass, k.oid, 0)], n.nspname::text, c.relname::text
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE k.confrelid = $1 AND k.conrelid <> $1 AND k.contype = 'f'
      ORDER BY 2`,
    [resolved.table.oid],
  );
  return r.rows
    .filter((x) => x.columns.some((c) => old.includes(c)))
    .map((x) => ({
      kind: x.kind,
      name: x.name,
      ...(x.index_def !== null ? { indexDefinition: x.index_def } : {}),
      ...(x.constraint_def !== null ? { constraintDefinition: x.constraint_def } : {}),
      ...(x.is_unique ? { unique: true } : {}),
      columns: x.columns,
      ...(x.deferrable ? { deferrable: true, deferred: x.deferred } : {}),
      ...(x.validated ? {} : { validated: false }),
      ...(x.comment !== null ? { comment: x.comment } : {}),
      describes: x.describes,
      ...(x.on_schema !== null && x.on_name !== null ? { on: { schema: x.on_schema, name: x.on_name } } : {}),
    }));
}

/** The resolved spec with the work that carries the replaced columns' indexes and constraints over (see carried-objects-sql.ts). */
export async function withCarriedObjects(client: Client, resolved: ResolvedSpec): Promise<ResolvedSpec> {
  const objects = await columnObjects(client, resolved);
  if (!objects.length) return resolved;
  const { works, beforeDrop } = carriedObjectWork(resolved, objects);
  return {
    ...resolved,
    objects: [...(resolved.objects ?? []), ...works],
    ...(beforeDrop.length ? { beforeDrop } : {}),
  };
}

/**
 * What contract drops with the old columns on purpose, so neither expand's note nor contract's
 * dependency check names it: indexes the spec drops, and the objects carried to the new columns.
 */
export async function expectedDependents(client: Client, resolved: ResolvedSpec): Promise<Set<string>> {
  const out = await droppedIndexDescriptions(client, resolved);
  for (const o of await columnObjects(client, resolved)) {
    if (carriedObjectWork(resolved, [o]).works.length) for (const d of o.describes) out.add(d);
  }
  return out;
}

/** Why objects on the replaced columns are not carried, as "; <name> is not carried: <why>" (empty when all are). */
export async function notCarriedNote(client: Client, resolved: ResolvedSpec): Promise<string> {
  const { notCarried } = carriedObjectWork(resolved, await columnObjects(client, resolved));
  return notCarried.map((n) => `; ${n.name} is not carried to the new column: ${n.why}`).join('');
}
