import { CatalogError, SpecError } from '../../errors';
import { checkExistingName, checkIdentifierLength, quoteIdent, quoteLiteral, quoteQualified } from '../identifiers';
import { CatalogCondition, ObjectCheck, ObjectContext, ObjectTask, TableInfo } from './operation';

/** Field readers and SQL pieces shared by the object operations (indexes, constraints, tables). */

const PLAIN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A name Tandem creates (an index, a constraint, a table): a plain name, at most 63 bytes, not _tandem*. */
export function checkObjectName(field: string, value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new SpecError(field, `must be a non-empty ${what} name`);
  checkIdentifierLength(field, value);
  if (!PLAIN.test(value))
    throw new SpecError(
      field,
      `"${value}" is not a plain ${what} name (letters, digits and underscores, not starting with a digit)`,
    );
  if (value.toLowerCase().startsWith('_tandem'))
    throw new SpecError(field, `"${value}" uses the _tandem prefix, which Tandem reserves`);
  return value;
}

/** A non-empty list of existing names, each at most once. */
export function nameList(field: string, value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new SpecError(field, `must be a non-empty list of ${what}`);
  const names = value.map((v, i) => checkExistingName(`${field}[${i}]`, v));
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new SpecError(field, `lists "${twice}" twice`);
  return names;
}

export function optionalString(field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim().length === 0) throw new SpecError(field, 'must be a non-empty string');
  return value;
}

/**
 * A column an object operation names: a live column or one the spec adds, and not one the spec
 * drops at contract (the object would go with it).
 */
export function knownColumn(ctx: ObjectContext, field: string, name: string): { name: string; type: string } {
  checkExistingName(field, name);
  if (ctx.droppedColumns.includes(name)) {
    throw new CatalogError(
      field,
      name,
      `column "${name}" is dropped by this spec at contract, so an object on it would go with it`,
    );
  }
  const live = ctx.table.columns.find((c) => c.name === name);
  if (live) return live;
  const added = ctx.newColumns.find((c) => c.name === name);
  if (added) return added;
  throw new CatalogError(
    field,
    name,
    `column "${name}" does not exist in table ${ctx.table.schema}.${ctx.table.name} and this spec does not add it`,
  );
}

export function tableSql(table: TableInfo): string {
  return quoteQualified(table.schema, table.name);
}

/** The table as a regclass literal, for catalog queries. */
export function regclass(table: TableInfo): string {
  return `${quoteLiteral(tableSql(table))}::regclass`;
}

/** The primary key of a row as JSON text, the form verify reports sample keys in. */
export function keyJson(table: TableInfo, alias: string): string {
  return `json_build_array(${table.primaryKey.map((c) => `${alias}.${quoteIdent(c.name)}::text`).join(', ')})::text`;
}

/** A verify check counting the rows `where` selects (over `from`, aliased `x`), with up to 10 sample keys. */
export function rowsCheck(
  label: string,
  table: TableInfo,
  where: string,
  fix: string,
  from = `${tableSql(table)} x`,
): ObjectCheck {
  return {
    label,
    fix,
    counts: 'rows',
    sql: `SELECT count(*)::bigint AS n, (array_agg(${keyJson(table, 'x')} ORDER BY ${keyJson(table, 'x')}))[1:10] AS sample FROM ${from} WHERE ${where}`,
  };
}

/** A condition: the table is not partitioned, for what PostgreSQL cannot do online on a partitioned table (`why`, `instead`). */
export function notPartitioned(field: string, table: TableInfo, objectName: string, why: string): CatalogCondition {
  return {
    field,
    objectName,
    sql: `SELECT 'partitioned' AS what FROM pg_class WHERE oid = ${regclass(table)} AND relkind = 'p'`,
    message: `${table.schema}.${table.name} is partitioned: ${why}`,
  };
}

/** SQL that returns a row when a relation of that name exists in the schema. */
export function relationExists(schema: string, name: string): string {
  return `SELECT c.relname AS what FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${quoteLiteral(schema)} AND c.relname = ${quoteLiteral(name)}`;
}

/** A condition: no relation (table, index, view, sequence) named so in the schema. */
export function relationAbsent(field: string, schema: string, name: string, what: string): CatalogCondition {
  return {
    field,
    objectName: name,
    sql: relationExists(schema, name),
    message: `${what} "${name}" cannot be created: a relation of that name already exists in schema ${schema}`,
  };
}

/** A condition: the table has no constraint named so. */
export function constraintAbsent(field: string, table: TableInfo, name: string): CatalogCondition {
  return {
    field,
    objectName: name,
    sql: `SELECT conname AS what FROM pg_constraint WHERE conrelid = ${regclass(table)} AND conname = ${quoteLiteral(name)}`,
    message: `constraint "${name}" already exists on table ${table.schema}.${table.name}`,
  };
}

/** SQL that returns a row when the table has a constraint named so. */
export function constraintExists(table: TableInfo, name: string): string {
  return `SELECT 1 FROM pg_constraint WHERE conrelid = ${regclass(table)} AND conname = ${quoteLiteral(name)}`;
}

/** A constraint added NOT VALID and then validated, each its own short transaction; a failed VALIDATE drops it again. */
export function addValidatedConstraint(
  id: string,
  table: TableInfo,
  name: string,
  definition: string,
  hint: string,
): ObjectTask[] {
  const t = tableSql(table);
  return [
    {
      kind: 'transaction',
      id: `add-${id}`,
      sql: `ALTER TABLE ${t} ADD CONSTRAINT ${quoteIdent(name)} ${definition} NOT VALID`,
      unless: constraintExists(table, name),
      undo: `ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${quoteIdent(name)}`,
    },
    {
      kind: 'transaction',
      id: `validate-${id}`,
      sql: `ALTER TABLE ${t} VALIDATE CONSTRAINT ${quoteIdent(name)}`,
      // SHARE UPDATE EXCLUSIVE (and ROW SHARE on a referenced table): writes go on, so the scan is not cut.
      scans: true,
      onDataError: { undo: `ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${quoteIdent(name)}`, hint },
    },
  ];
}
