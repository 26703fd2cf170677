import { TandemError } from '../phases/errors';
import { Queryable } from '../app/customer-store';
import { quoteIdent, quoteQualified } from '../phases/sql/identifiers';
import { Row } from './expression-evaluator';
import { loadTableModel, ModelColumn, TableModel, writableColumns } from './table-model';
import { columnValues, ValueSource } from './value-generator';

/** A column the generator has no values for, NOT NULL and without a default: the user must bring rows. */
export class UngeneratableColumnError extends TandemError {
  readonly kind = 'ungeneratable_column';
  readonly exitCode = 2;
  constructor(readonly table: string, readonly column: string, readonly type: string) {
    super(`column ${column} of ${table} is NOT NULL with no default, and tandem rehearse cannot generate values of type ${type}: copy real rows with --schema-from URL --sample N`);
    this.name = 'UngeneratableColumnError';
  }
}

/** The columns of a table as text, in model order: ARRAY[col::text, ...]. */
export function rowArraySql(columns: readonly string[], alias: string): string {
  return `ARRAY[${columns.map((c) => `${alias}.${quoteIdent(c)}::text`).join(', ')}]::text[]`;
}

export function toRow(columns: readonly string[], values: (string | null)[]): Row {
  const row: Record<string, string | null> = {};
  columns.forEach((c, i) => (row[c] = values[i]));
  return row;
}

/** Generates rows of one table: values by type, foreign keys from rows that exist in the referenced tables. */
export class RowGenerator {
  private readonly sources = new Map<string, ValueSource>();
  private readonly fkColumns = new Set<string>();

  constructor(readonly model: TableModel, private readonly parentKeys: ReadonlyMap<string, readonly (readonly (string | null)[])[]>, private readonly random: () => number) {
    for (const fk of model.foreignKeys) for (const c of fk.columns) this.fkColumns.add(c);
    for (const c of writableColumns(model)) this.sources.set(c.name, columnValues(c, random));
  }

  /** Columns a generated insert leaves to their defaults (identity, serial). */
  static leavesToDefault(c: ModelColumn): boolean {
    return c.identity !== '' || c.serial;
  }

  /** One row for the given columns (all writable ones by default); foreign keys from existing parents. */
  row(only?: ReadonlySet<string>): Record<string, string | null> {
    const out: Record<string, string | null> = {};
    for (const fk of this.model.foreignKeys) {
      const keys = this.parentKeys.get(fk.name) ?? [];
      if (!fk.columns.some((c) => !only || only.has(c))) continue;
      const key = keys.length ? keys[Math.floor(this.random() * keys.length)] : fk.columns.map(() => null);
      fk.columns.forEach((c, i) => (out[c] = key[i]));
    }
    for (const c of writableColumns(this.model)) {
      if (this.fkColumns.has(c.name) || RowGenerator.leavesToDefault(c) || (only && !only.has(c.name))) continue;
      let v = this.sources.get(c.name)!();
      for (let tries = 0; v === null && c.notNull && tries < 20; tries++) v = this.sources.get(c.name)!();
      if (v === null && c.notNull) {
        if (c.hasDefault) continue;
        throw new UngeneratableColumnError(`${this.model.schema}.${this.model.name}`, c.name, c.type);
      }
      out[c.name] = v;
    }
    return out;
  }

  /** A fresh value for one column. */
  value(column: string): string | null {
    const source = this.sources.get(column);
    return source ? source() : null;
  }
}

export interface SeedResult {
  /** Every row of the table after seeding, as text, in model column order. */
  readonly rows: Row[];
  /** Generated rows the schema refused (a CHECK, a unique index, ...). */
  readonly rejected: number;
}

async function keysOf(db: Queryable, model: TableModel, columns: readonly string[]): Promise<(string | null)[][]> {
  const { rows } = await db.query(`SELECT ${rowArraySql(columns, 't')} AS k FROM ${model.qualified} AS t LIMIT 2000`);
  return rows.map((r) => r.k);
}

/** Insert generated rows in batches; a batch the schema refuses is retried row by row, and refused rows are counted. */
export async function insertRows(db: Queryable, model: TableModel, rows: readonly Record<string, string | null>[]): Promise<number> {
  let rejected = 0;
  const byShape = new Map<string, Record<string, string | null>[]>();
  for (const r of rows) {
    const key = Object.keys(r).join('\u0000');
    (byShape.get(key) ?? byShape.set(key, []).get(key)!).push(r);
  }
  for (const group of byShape.values()) {
    const cols = Object.keys(group[0]);
    const types = cols.map((c) => model.columns.find((m) => m.name === c)!.type);
    for (let i = 0; i < group.length; i += 500) {
      const batch = group.slice(i, i + 500);
      const select = cols.map((c, k) => `(x.r ->> '${c.replace(/'/g, "''")}')::${types[k]}`).join(', ');
      const sql = `INSERT INTO ${model.qualified} (${cols.map(quoteIdent).join(', ')}) SELECT ${select} FROM jsonb_array_elements($1::jsonb) AS x(r)`;
      try {
        if (cols.length === 0) await db.query(`INSERT INTO ${model.qualified} SELECT FROM generate_series(1, $1)`, [batch.length]);
        else await db.query(sql, [JSON.stringify(batch)]);
      } catch {
        for (const r of batch) {
          try {
            await db.query(sql, [JSON.stringify([r])]);
          } catch {
            rejected++;
          }
        }
      }
    }
  }
  return rejected;
}

/**
 * Fill a table with `count` generated rows, after giving every table it references rows of its own
 * (when they have none: `parentRows` each), so every foreign key points at a real row.
 */
export async function seedTable(db: Queryable, model: TableModel, count: number, parentRows: number, random: () => number, seen = new Set<number>()): Promise<{ rejected: number; generator: RowGenerator }> {
  // `rejected`: generated rows the schema refused (replaced by others), across this table and its parents.
  seen.add(model.oid);
  const parentKeys = new Map<string, (string | null)[][]>();
  let rejected = 0;
  for (const fk of model.foreignKeys) {
    const parent = await loadTableModel(db, fk.refSchema, fk.refTable);
    if (!parent) continue;
    if (parent.oid !== model.oid && !seen.has(parent.oid)) {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${parent.qualified}`);
      if (rows[0].n === 0) rejected += (await seedTable(db, parent, parentRows, parentRows, random, seen)).rejected;
    }
    parentKeys.set(fk.name, await keysOf(db, parent, fk.refColumns));
  }
  const generator = new RowGenerator(model, parentKeys, random);
  // Rows the schema refuses are made up for, a few rounds at most.
  let missing = count;
  for (let round = 0; round < 4 && missing > 0; round++) {
    const refused = await insertRows(db, model, Array.from({ length: missing }, () => generator.row()));
    rejected += refused;
    missing = refused;
  }
  await resetSequences(db, model);
  return { rejected, generator };
}

/** After rows were copied in with their keys, move identity and serial sequences past them. */
export async function resetSequences(db: Queryable, model: TableModel): Promise<void> {
  for (const c of model.columns.filter((x) => x.identity !== '' || x.serial)) {
    await db.query(
      `SELECT setval(s, greatest((SELECT max(${quoteIdent(c.name)}) FROM ${model.qualified})::bigint, 1)) FROM pg_get_serial_sequence($1, $2) AS s WHERE s IS NOT NULL`,
      [quoteQualified(model.schema, model.name), c.name],
    );
  }
}

/** Every row of the table as text. */
export async function readAllRows(db: Queryable, model: TableModel, columns: readonly string[]): Promise<Row[]> {
  const { rows } = await db.query(`SELECT ${rowArraySql(columns, 't')} AS v FROM ${model.qualified} AS t`);
  return rows.map((r) => toRow(columns, r.v));
}
