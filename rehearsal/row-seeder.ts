import { ClientBase, Pool } from 'pg';
import { TandemError } from '../phases/errors';
import { Queryable } from '../app/customer-store';
import { quoteIdent, quoteQualified } from '../phases/sql/identifiers';
import { ConstraintRefusesError, learnValues, RowRule, rowRules, rowsKeepingRules } from './constraint-values';
import { ExpressionEvaluator, Row } from './expression-evaluator';
import { loadTableModel, ModelColumn, TableModel, writableColumns } from './table-model';
import { columnValues, ValueSource } from './value-generator';
import { errorCode, errorMessage } from '../phases/error-fields';

/** A column the generator has no values for, NOT NULL and without a default: the user must bring rows. */
export class UngeneratableColumnError extends TandemError {
  readonly kind = 'ungeneratable_column';
  readonly exitCode = 2;
  constructor(
    readonly table: string,
    readonly column: string,
    readonly type: string,
  ) {
    super(
      `column ${column} of ${table} is NOT NULL with no default, and tandem rehearse cannot generate values of type ${type}: copy real rows with --schema-from URL --sample N`,
    );
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

/** Values its constraints accept, NULL now and then where the column allows it (a CHECK passes NULL). */
function learnedSource(col: ModelColumn, values: readonly string[], random: () => number): ValueSource {
  return () => (!col.notNull && random() < 0.08 ? null : values[Math.floor(random() * values.length)]);
}

/** A unique column's admissible values, each once in random order; then NULL where allowed (else repeats, which a unique index skips). */
function learnedOnce(col: ModelColumn, values: readonly string[], random: () => number): ValueSource {
  const left = [...new Set(values)];
  for (let i = left.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [left[i], left[j]] = [left[j], left[i]];
  }
  const rest = learnedSource(col, values, random);
  return () => (left.length ? left.pop()! : col.notNull ? rest() : null);
}

/** A unique column's values: never one given before (text gets a numbered suffix, numbers a fresh draw). */
function distinct(col: ModelColumn, source: ValueSource): ValueSource {
  const given = new Set<string>();
  let n = 0;
  return () => {
    for (let tries = 0; tries < 20; tries++) {
      const v = source();
      if (v === null || !given.has(v)) return v === null ? v : (given.add(v), v);
    }
    let v: string;
    do v = col.category === 'S' ? `${source() ?? ''}-${++n}` : String(++n);
    while (given.has(v));
    given.add(v);
    return v;
  };
}

/** Generates rows of one table: values by type, foreign keys from rows that exist in the referenced tables. */
export class RowGenerator {
  private readonly sources = new Map<string, ValueSource>();
  private readonly fkColumns = new Set<string>();

  /** `learned`: per column, values its constraints accept (see learnValues); others come by type. */
  constructor(
    readonly model: TableModel,
    private readonly parentKeys: ReadonlyMap<string, readonly (readonly (string | null)[])[]>,
    private readonly random: () => number,
    learned: ReadonlyMap<string, readonly string[]> = new Map(),
  ) {
    for (const fk of model.foreignKeys) for (const c of fk.columns) this.fkColumns.add(c);
    const uniqueAlone = new Set(model.uniques.filter((u) => u.length === 1).map((u) => u[0]));
    for (const c of writableColumns(model)) {
      const values = learned.get(c.name);
      const source = values?.length
        ? uniqueAlone.has(c.name)
          ? learnedOnce(c, values, random)
          : learnedSource(c, values, random)
        : uniqueAlone.has(c.name)
          ? distinct(c, columnValues(c, random))
          : columnValues(c, random);
      this.sources.set(c.name, source);
    }
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

// object_not_in_prerequisite_state: what PostgreSQL raises for ON CONFLICT over a deferrable constraint.
const NO_ARBITER = '55000';

/** A table whose rows the generator cannot make: PostgreSQL refused every one of a batch. */
export class RowsRefusedError extends TandemError {
  readonly exitCode = 2;
  readonly kind = 'constraint_refuses_rows';
  constructor(
    readonly table: string,
    readonly reason: string,
    readonly example: Row,
  ) {
    super(
      `${table} refuses every generated row (${reason}), e.g. ${JSON.stringify(example)}: copy real rows with --schema-from URL --sample N, or rehearse on a --schema FILE whose table the generator can fill`,
    );
    this.name = 'RowsRefusedError';
  }
}

async function keysOf(db: Queryable, model: TableModel, columns: readonly string[]): Promise<(string | null)[][]> {
  const { rows } = await db.query(`SELECT ${rowArraySql(columns, 't')} AS k FROM ${model.qualified} AS t LIMIT 2000`);
  return rows.map((r) => r.k);
}

/**
 * Insert rows in batches; a row that a unique index already holds is skipped (ON CONFLICT DO
 * NOTHING), a batch PostgreSQL refuses otherwise (a trigger, a foreign key) is retried row by row.
 * Returns how many rows went in, and the first refusal's message.
 */
export async function insertRows(
  db: Queryable,
  model: TableModel,
  rows: readonly Record<string, string | null>[],
): Promise<{ inserted: number; error?: string; refusedRow?: Row }> {
  let inserted = 0;
  let error: string | undefined;
  let refusedRow: Row | undefined;
  const byShape = new Map<string, Record<string, string | null>[]>();
  for (const r of rows) {
    const key = Object.keys(r).join('\u0000');
    (byShape.get(key) ?? byShape.set(key, []).get(key)!).push(r);
  }
  for (const group of byShape.values()) {
    const cols = Object.keys(group[0]);
    const types = cols.map((c) => model.columns.find((m) => m.name === c)!.type);
    for (let i = 0; i < group.length; i += 1000) {
      const batch = group.slice(i, i + 1000);
      const select = cols.map((c, k) => `(x.r ->> '${c.replace(/'/g, "''")}')::${types[k]}`).join(', ');
      const insert = cols.length
        ? `INSERT INTO ${model.qualified} (${cols.map(quoteIdent).join(', ')}) SELECT ${select} FROM jsonb_array_elements($1::jsonb) AS x(r)`
        : `INSERT INTO ${model.qualified} SELECT FROM jsonb_array_elements($1::jsonb)`;
      let sql = `${insert} ON CONFLICT DO NOTHING`;
      try {
        inserted += (await db.query(sql, [JSON.stringify(batch)])).rowCount ?? 0;
      } catch (err) {
        // A deferrable unique or exclusion constraint cannot arbitrate ON CONFLICT: plain inserts, then.
        if (errorCode(err) === NO_ARBITER) {
          sql = insert;
          try {
            inserted += (await db.query(sql, [JSON.stringify(batch)])).rowCount ?? 0;
            continue;
          } catch {
            // some row is refused: find it below
          }
        }
        for (const r of batch) {
          try {
            inserted += (await db.query(sql, [JSON.stringify([r])])).rowCount ?? 0;
          } catch (err) {
            error ??= errorMessage(err);
            refusedRow ??= r;
          }
        }
      }
    }
  }
  return { inserted, error, refusedRow };
}

/** One session of `db` (a pool's client, released after; a client as it is). */
async function withSession<T>(db: Queryable, fn: (c: ClientBase) => Promise<T>): Promise<T> {
  if (db instanceof Pool) {
    const c = await db.connect();
    try {
      return await fn(c);
    } finally {
      c.release();
    }
  }
  return fn(db as unknown as ClientBase);
}

export interface SeedResult {
  /** Generated rows that did not go in (a rule refused them, a unique index held them), across this table and its parents. */
  readonly rejected: number;
  /** Rows of the table this call inserted. */
  readonly inserted: number;
  readonly generator: RowGenerator;
  /** The rules generated rows keep: the table's and its domains' CHECKs, and the spec's. */
  readonly rules: readonly RowRule[];
}

export interface SeedOptions {
  /** CHECKs the spec adds: generated rows keep them too. */
  readonly specChecks?: readonly { name: string; check: string }[];
  readonly seen?: Set<number>;
}

/**
 * Fill a table with `count` generated rows, after giving every table it references rows of its own
 * (when they have none: `parentRows` each), so every foreign key points at a real row. Values come
 * from what the constraints accept (learnValues), rows are filtered by every rule in SQL before
 * they are inserted, so a CHECK costs a filter, not a failed insert per row.
 */
export async function seedTable(
  db: Queryable,
  model: TableModel,
  count: number,
  parentRows: number,
  random: () => number,
  options: SeedOptions = {},
): Promise<SeedResult> {
  const seen = options.seen ?? new Set<number>();
  seen.add(model.oid);
  const parentKeys = new Map<string, (string | null)[][]>();
  let rejected = 0;
  for (const fk of model.foreignKeys) {
    const parent = await loadTableModel(db, fk.refSchema, fk.refTable);
    if (!parent) continue;
    if (parent.oid !== model.oid && !seen.has(parent.oid)) {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${parent.qualified}`);
      if (rows[0].n === 0) rejected += (await seedTable(db, parent, parentRows, parentRows, random, { seen })).rejected;
    }
    parentKeys.set(fk.name, await keysOf(db, parent, fk.refColumns));
  }
  const table = `${model.schema}.${model.name}`;
  return withSession(db, async (session) => {
    const rules = await rowRules(session, model, options.specChecks ?? []);
    // Rows copied in (--sample) need no generated rows: the traffic then makes do with what it can.
    const learned = await learnValues(session, model, rules, random, count > 0);
    const generator = new RowGenerator(model, parentKeys, random, learned.values);
    const evaluator = new ExpressionEvaluator(
      session,
      model.name,
      model.columns.map((c) => ({ name: c.name, type: c.type })),
    );
    let inserted = 0;
    // Rounds make up for rows a rule or a unique index refused; a round that adds nothing ends it.
    for (let round = 0; round < 10 && inserted < count; round++) {
      const batch = Array.from({ length: count - inserted }, () => generator.row());
      const { kept, refusedBy, example } = await rowsKeepingRules(evaluator, rules, batch);
      if (!kept.length) {
        if (refusedBy) throw new ConstraintRefusesError(table, refusedBy, example!, batch.length);
        throw new RowsRefusedError(table, 'a value its column type or domain refuses', batch[0]);
      }
      const result = await insertRows(session, model, kept);
      if (result.inserted === 0 && result.error) throw new RowsRefusedError(table, result.error, result.refusedRow!);
      rejected += batch.length - result.inserted;
      inserted += result.inserted;
      if (result.inserted === 0) break;
    }
    await resetSequences(session, model);
    return { rejected, inserted, generator, rules };
  });
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
