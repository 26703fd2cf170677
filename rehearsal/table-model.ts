import { Queryable } from '../app/customer-store';
import { quoteQualified } from '../phases/sql/identifiers';

/** One column as the rehearsal's value generator and checker see it. */
export interface ModelColumn {
  readonly name: string;
  /** format_type() of the column, e.g. `numeric(12,2)` or `shop.positive_amount`. */
  readonly type: string;
  /** The base type's name after unwrapping domains, e.g. `numeric`, `int8`, `text`. */
  readonly base: string;
  /** pg_type.typcategory of the base type (N numeric, S string, D date/time, B boolean, E enum, A array, U user, ...). */
  readonly category: string;
  /** varchar(n) / char(n): n. */
  readonly maxLength?: number;
  /** numeric(p, s). */
  readonly precision?: number;
  readonly scale?: number;
  /** The labels of an enum (or a domain over one). */
  readonly labels?: readonly string[];
  readonly notNull: boolean;
  readonly hasDefault: boolean;
  /** '' none, 'a' GENERATED ALWAYS AS IDENTITY, 'd' BY DEFAULT. */
  readonly identity: string;
  /** A stored generated column: never written. */
  readonly generated: boolean;
  /** A default that draws from a sequence (serial): the app leaves it to the default. */
  readonly serial: boolean;
}

export interface ForeignKey {
  readonly name: string;
  readonly columns: readonly string[];
  readonly refSchema: string;
  readonly refTable: string;
  readonly refColumns: readonly string[];
}

export interface TableModel {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  /** Schema-qualified and quoted. */
  readonly qualified: string;
  readonly columns: readonly ModelColumn[];
  readonly primaryKey: readonly string[];
  readonly foreignKeys: readonly ForeignKey[];
  /** Column sets of unique constraints and unique indexes (the primary key included). */
  readonly uniques: readonly (readonly string[])[];
  /** CHECK constraints, the columns they read, and their expression. */
  readonly checks: readonly { readonly name: string; readonly columns: readonly string[]; readonly expr: string }[];
  /** Every constraint and unique index by name, with the columns it covers: a violation names one of these. */
  readonly constraintColumns: Readonly<Record<string, readonly string[]>>;
}

/** Read a table's shape from the catalog; undefined when it does not exist. */
export async function loadTableModel(
  db: Queryable,
  schema: string | undefined,
  name: string,
): Promise<TableModel | undefined> {
  const t = await findTable(db, schema, name);
  if (!t) return undefined;
  const oid = Number(t.oid);
  const columns = await loadColumns(db, oid);
  const cons = await loadConstraints(db, oid);
  const idx = await loadUniqueIndexes(db, oid);
  const pk = cons.find((c) => c.kind === 'p');
  const uniques = [
    ...cons.filter((c) => c.kind === 'p' || c.kind === 'u').map((c) => c.columns as string[]),
    ...idx.map((i) => i.columns as string[]),
  ];
  const constraintColumns: Record<string, string[]> = {};
  for (const i of idx) constraintColumns[i.name] = i.columns;
  for (const c of cons) constraintColumns[c.name] = c.columns;
  return {
    oid,
    schema: t.schema,
    name: t.name,
    qualified: quoteQualified(t.schema, t.name),
    columns,
    primaryKey: pk ? pk.columns : [],
    foreignKeys: cons
      .filter((c) => c.kind === 'f')
      .map((c) => ({
        name: c.name,
        columns: c.columns,
        refSchema: c.ref_schema!,
        refTable: c.ref_table!,
        refColumns: c.ref_columns,
      })), // a foreign key always has its referenced table
    uniques,
    checks: cons.filter((c) => c.kind === 'c').map((c) => ({ name: c.name, columns: c.columns, expr: c.expr! })), // a CHECK always has its expression
    constraintColumns,
  };
}

/** The table (or partitioned table) named; without a schema, as the search_path finds it. */
async function findTable(
  db: Queryable,
  schema: string | undefined,
  name: string,
): Promise<{ oid: string; schema: string; name: string } | undefined> {
  const found = await db.query<{ oid: string; schema: string; name: string }>(
    schema
      ? `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`
      : `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.oid = to_regclass(quote_ident($1)) AND c.relkind IN ('r', 'p')`,
    schema ? [schema, name] : [name],
  );
  return found.rows[0];
}

/** The columns, domains unwrapped to their base types (with the domains' NOT NULL). */
async function loadColumns(db: Queryable, oid: number): Promise<ModelColumn[]> {
  const { rows: cols } = await db.query<ColumnRow>(
    `WITH RECURSIVE b(attnum, typ, typmod, dom_not_null, depth) AS (
        SELECT a.attnum, a.atttypid, a.atttypmod, false, 0 FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      UNION ALL
        SELECT b.attnum, t.typbasetype, CASE WHEN t.typtypmod <> -1 THEN t.typtypmod ELSE b.typmod END, b.dom_not_null OR t.typnotnull, b.depth + 1
          FROM b JOIN pg_type t ON t.oid = b.typ WHERE t.typtype = 'd'),
      base AS (SELECT DISTINCT ON (attnum) * FROM b ORDER BY attnum, depth DESC)
     SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, bt.typname AS base, bt.typcategory AS category,
            base.typmod, a.attnotnull OR base.dom_not_null AS not_null, a.atthasdef AS has_default, a.attidentity AS identity,
            a.attgenerated <> '' AS generated,
            coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false) AS serial,
            (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = bt.oid) AS labels
       FROM pg_attribute a
       JOIN base ON base.attnum = a.attnum
       JOIN pg_type bt ON bt.oid = base.typ
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  );
  return cols.map(columnOf);
}

/** A constraint row of loadConstraints. */
interface ConstraintRow {
  name: string;
  kind: 'p' | 'u' | 'f' | 'c';
  expr: string | null;
  columns: string[];
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string[];
}

/** Primary key, unique, foreign key and CHECK constraints, with their columns in key order. */
async function loadConstraints(db: Queryable, oid: number): Promise<ConstraintRow[]> {
  const { rows: cons } = await db.query<ConstraintRow>(
    `SELECT c.conname AS name, c.contype AS kind, CASE WHEN c.contype = 'c' THEN pg_get_expr(c.conbin, c.conrelid) END AS expr,
            ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS columns,
            rn.nspname AS ref_schema, rc.relname AS ref_table,
            ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS ref_columns
       FROM pg_constraint c
       LEFT JOIN pg_class rc ON rc.oid = c.confrelid
       LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE c.conrelid = $1 AND c.contype IN ('p', 'u', 'f', 'c')
      ORDER BY c.conname`,
    [oid],
  );
  return cons;
}

/** Unique indexes (those behind constraints too), with their key columns: a violation may name one. */
async function loadUniqueIndexes(db: Queryable, oid: number): Promise<{ name: string; columns: string[] }[]> {
  const { rows: idx } = await db.query<{ name: string; columns: string[] }>(
    `SELECT (SELECT relname FROM pg_class WHERE oid = i.indexrelid) AS name, ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o) AS columns
       FROM pg_index i WHERE i.indrelid = $1 AND i.indisunique`,
    [oid],
  );
  return idx;
}

/** One catalog row of loadColumns as the model's column: varchar/char length, numeric precision and scale from the typmod. */
/** A column row of loadColumns. */
interface ColumnRow {
  name: string;
  type: string;
  base: string;
  category: string;
  typmod: number | string;
  not_null: boolean;
  has_default: boolean;
  identity: string;
  generated: boolean;
  serial: boolean;
  labels: string[] | null;
}

function columnOf(c: ColumnRow): ModelColumn {
  const typmod = Number(c.typmod);
  const sized = (c.base === 'varchar' || c.base === 'bpchar') && typmod > 4 ? { maxLength: typmod - 4 } : {};
  const numeric =
    c.base === 'numeric' && typmod > 4
      ? { precision: ((typmod - 4) >> 16) & 0xffff, scale: (typmod - 4) & 0xffff }
      : {};
  return {
    name: c.name,
    type: c.type,
    base: c.base,
    category: c.category,
    ...sized,
    ...numeric,
    ...(c.labels ? { labels: c.labels } : {}),
    notNull: c.not_null,
    hasDefault: c.has_default,
    identity: c.identity,
    generated: c.generated,
    serial: c.serial,
  };
}

/** Columns an app writes itself: not identity ALWAYS, not generated, not the bookkeeping of Tandem. */
export function writableColumns(model: TableModel): ModelColumn[] {
  return model.columns.filter((c) => c.identity !== 'a' && !c.generated && !c.name.startsWith('_tandem'));
}
