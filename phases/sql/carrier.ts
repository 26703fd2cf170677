import { SpecError } from '../errors';
import { changesColumns, namesOwnTable, operationOf, ParsedOperation, TableColumn, TableInfo } from './operations';

/**
 * The spec's table ("carrier"): the table its column operations refactor and its object operations
 * work on. A spec of object operations only needs none that exists: it may omit `table` (then it
 * works in a schema: `schema`, or the first of the search_path), or name the table its own
 * create_table creates. Such a table is "virtual": not read from the catalog, but described from
 * the spec (the created table's columns), so object operations plan against it, and no sync
 * machinery is installed (there is no column to keep in sync).
 */

/** The spec's table when `table` is omitted: the first table it creates, or none (''). */
export function carrierTable(
  operations: readonly ParsedOperation[],
  table: string | undefined,
  field = 'table',
): { table: string; virtual: boolean } {
  const created = operations.flatMap((op) => operationOf(op.kind).createsTables?.(op.body) ?? []);
  const virtual = table === undefined || created.includes(table);
  if (!virtual) return { table: table!, virtual: false };
  const columnOp = operations.find((op) => changesColumns(op));
  if (columnOp) {
    throw new SpecError(
      table === undefined ? field : `${columnOp.field}`,
      table === undefined
        ? `is required: ${columnOp.field} changes columns of an existing table, which \`table\` names`
        : `changes columns of ${table}, which this spec creates; a column operation needs a table that exists before expand (create it in an earlier migration)`,
    );
  }
  const name = table ?? created[0] ?? '';
  if (name === '') {
    const needy = operations.find((op) => !namesOwnTable(op));
    if (needy)
      throw new SpecError(
        field,
        `is required: ${needy.field} works on the spec's table; name it, or a table this spec creates`,
      );
  }
  return { table: name, virtual: true };
}

/** The virtual table of a spec: the created table's columns and primary key, as create_table declares them (oid 0: not in the catalog). */
export function virtualTableInfo(operations: readonly ParsedOperation[], schema: string, name: string): TableInfo {
  const created = operations.find((op) => (operationOf(op.kind).createsTables?.(op.body) ?? []).includes(name));
  const body = created?.body as
    | {
        columns: { name: string; type: string; notNull: boolean; default?: string }[];
        primaryKey: string[];
        constraints?: { type: string; columns?: string[] }[];
      }
    | undefined;
  // The primary key: `primary_key`, or a constraint of type primary_key.
  const key = body?.primaryKey.length
    ? body.primaryKey
    : (body?.constraints?.find((c) => c.type === 'primary_key')?.columns ?? []);
  const columns: TableColumn[] = (body?.columns ?? []).map((c) => ({
    name: c.name,
    type: c.type,
    notNull: c.notNull || key.includes(c.name),
    hasDefault: c.default !== undefined,
    ...(c.default !== undefined ? { defaultExpr: c.default } : {}),
  }));
  return { oid: 0, schema, name, columns, primaryKey: key.map((k) => columns.find((c) => c.name === k)!) };
}

/** Does the spec keep columns in sync (column operations: new columns, sync trigger, backfill)? An object-only spec does not. */
export function syncsColumns(resolved: { readonly mappings: readonly unknown[] }): boolean {
  return resolved.mappings.length > 0;
}

/** How a spec's table reads in messages: `schema.table`, or the schema alone for a spec without one. */
export function carrierLabel(schema: string, name: string): string {
  return name === '' ? `schema ${schema}` : `${schema}.${name}`;
}
