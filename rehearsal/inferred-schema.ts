import { CatalogError } from '../phases/errors';
import { quoteIdent, quoteQualified } from '../phases/sql/identifiers';
import { ColumnMapping, TableColumn, TableInfo } from '../phases/sql/operations';
import { MigrationSpec, resolveSpec } from '../phases/sql/spec';
import { Queryable } from '../app/customer-store';

const KEY: TableColumn = { name: 'id', type: 'bigint', notNull: true, hasDefault: true };

function info(spec: MigrationSpec, columns: TableColumn[]): TableInfo {
  return { oid: 0, schema: spec.schema ?? 'public', name: spec.table, columns, primaryKey: [KEY] };
}

/**
 * The columns the spec needs, found by resolving it against a table that grows by one text column
 * for every column the resolver says is missing. Works for any operation that resolves to a
 * ColumnMapping, without knowing its fields.
 */
export function neededColumns(spec: MigrationSpec): { columns: TableColumn[]; mappings: readonly ColumnMapping[] } {
  const columns: TableColumn[] = [KEY];
  for (let i = 0; i < 200; i++) {
    try {
      return { columns, mappings: resolveSpec(spec, info(spec, columns)).mappings };
    } catch (err) {
      if (
        err instanceof CatalogError &&
        /does not exist/.test(err.message) &&
        !columns.some((c) => c.name === err.objectName)
      ) {
        columns.push({ name: err.objectName, type: 'text', notNull: false, hasDefault: false });
        continue;
      }
      throw err;
    }
  }
  throw new Error('the spec names too many columns to infer a table from it');
}

/**
 * A table for a spec given without a schema: a bigint identity key and the columns the spec reads.
 * An old column gets the type its `down` yields over the new columns (typmod included, read from a
 * table created from the expression); otherwise text. Every column is nullable.
 */
export async function inferredSchemaSql(db: Queryable, spec: MigrationSpec): Promise<string> {
  const { columns, mappings } = neededColumns(spec);
  const types = new Map<string, string>(columns.map((c) => [c.name, c.type]));
  const newNames = new Set(mappings.flatMap((m) => m.newColumns.map((c) => c.name)));
  for (const m of mappings) {
    for (const [old, expr] of Object.entries(m.down)) {
      const relation = m.newColumns.map((c) => `NULL::${c.type} AS ${quoteIdent(c.name)}`).join(', ');
      const probe = `_tandem_rehearsal_type_probe`;
      try {
        await db.query(
          `CREATE TEMP TABLE ${probe} AS SELECT (${expr}) AS v FROM (SELECT ${relation || '1 AS _tandem_none'}) AS ${quoteIdent(spec.table)} WITH NO DATA`,
        );
        const { rows } = await db.query(
          `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'pg_temp.${probe}'::regclass AND attname = 'v'`,
        );
        const t = rows[0]?.t as string | undefined;
        if (t && t !== 'unknown') types.set(old, t);
      } catch {
        // down reads columns other than the new ones: keep text.
      } finally {
        await db.query(`DROP TABLE IF EXISTS pg_temp.${probe}`);
      }
    }
  }
  const table = spec.schema ? quoteQualified(spec.schema, spec.table) : quoteIdent(spec.table);
  const defs = [
    `id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY`,
    ...columns
      .filter((c) => c.name !== 'id' && !newNames.has(c.name))
      .map((c) => `${quoteIdent(c.name)} ${types.get(c.name)}`),
  ];
  return `${spec.schema ? `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(spec.schema)};\n` : ''}CREATE TABLE ${table} (\n  ${defs.join(',\n  ')}\n);\n`;
}
