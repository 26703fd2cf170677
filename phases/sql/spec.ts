import { createHash } from 'crypto';
import { parseDocument } from 'yaml';
import { CatalogError, SpecError } from '../errors';
import { parseTableName } from './identifiers';
import { expectKeys, expectObject } from './operations/fields';
import { refuseGeneratedReaders } from './operations/carried-properties';
import { carrierTable } from './carrier';
import {
  changesColumns,
  ColumnMapping,
  ObjectWork,
  OPERATION_KINDS,
  operationOf,
  OperationKind,
  ParsedOperation,
  TableInfo,
} from './operations';

/** A refactoring spec, validated offline. */
export interface MigrationSpec {
  /** [a-z0-9-]+, unique per database. */
  readonly name: string;
  /** The schema, when the spec names one (`schema.table`); otherwise the search_path decides. */
  readonly schema?: string;
  /** The spec's table; '' for a spec of object operations that names none (see carrier.ts). */
  readonly table: string;
  /** The table is not read from the catalog: the spec names none, or one its own create_table creates (object operations only; no sync machinery). */
  readonly virtualTable?: boolean;
  readonly operations: readonly ParsedOperation[];
  /** sha256 of the normalized spec: the executor refuses a spec that changed after expand. */
  readonly hash: string;
}

/** A spec checked against the live table: the data every plan is built from. */
export interface ResolvedSpec {
  readonly spec: MigrationSpec;
  readonly table: TableInfo;
  readonly mappings: readonly ColumnMapping[];
  /** Indexes, constraints, defaults, tables and raw SQL, per operation (absent in states recorded before object operations existed). */
  readonly objects?: readonly ObjectWork[];
  /**
   * Per operation, the table columns its `up` and `down` expressions read, as PostgreSQL resolved
   * them at expand (a throwaway view's pg_depend). The sync trigger recomputes a side when any of
   * them is written. Absent in specs recorded before this analysis: then the operation's own columns.
   */
  readonly reads?: readonly { readonly up: readonly string[]; readonly down: readonly string[] }[];
  /**
   * True when no `up`/`down` (nor a compared column or default) can give a value that depends on
   * an evaluation setting other than search_path, as judged at expand from PostgreSQL's parse of
   * them (executor/settings-independence.ts): the sync function then pins only search_path, each
   * pinned setting costing every write that fires it. Absent or false: all are pinned.
   */
  readonly settingsIndependent?: boolean;
  /**
   * The schemas names resolved in at expand, as `current_schemas(true)` listed them under the
   * pinned search_path (the session's temporary schema left out); read by the executor at expand.
   * With settingsIndependent, the sync trigger runs without a SET clause in an app session whose
   * `current_schemas(true)` is exactly this list, and sets pinnedPath for the call otherwise.
   */
  readonly pathSchemas?: readonly string[];
  /** The search_path expand pinned (its session's, spelled out): what every later session of the migration uses. */
  readonly pinnedPath?: string;
  /**
   * `up`/`down` expressions the sync trigger assigns as PL/pgSQL expressions over NEW (no query),
   * keyed by directAssignmentKey(target column, expression): PostgreSQL's own print of each with
   * its column references as `NEW."<column>"`, found at expand (executor/row-assignments.ts).
   */
  readonly directAssignments?: Readonly<Record<string, string>>;
  /** In contract's transaction, before the old columns go: what must go first (other tables' foreign keys into a replaced column, carried: carried-objects-sql.ts). Read live at every step, never recorded. */
  readonly beforeDrop?: readonly { readonly id: string; readonly sql: string }[];
}

const NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Derived names (`_tandem_sync_<name>`) must stay within 63 bytes. */
export const MAX_SPEC_NAME = 40;

/** The bookkeeping column that marks rows the backfill has not reached (pgroll's needs_backfill). */
export const PENDING_COLUMN = '_tandem_pending';

/** Does any new column need the backfill? (drop_column adds none; a constant default comes from the catalog.) */
export function needsBackfill(resolved: Pick<ResolvedSpec, 'mappings'>): boolean {
  return resolved.mappings.some((m) => m.newColumns.some((c) => c.up !== undefined));
}

export function parseSpec(text: string, source = 'spec'): MigrationSpec {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new SpecError('', `${source} is not valid YAML${where}: ${e.message.split('\n')[0]}`);
  }
  const raw = doc.toJS();
  if (raw === null || raw === undefined) throw new SpecError('', `${source} is empty`);
  const top = expectObject('', raw);
  expectKeys('spec', top, ['name', 'table', 'schema', 'operations', 'description']);
  const name = top.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new SpecError('name', 'must be lowercase letters, digits and single dashes, e.g. split-full-name');
  }
  if (name.length > MAX_SPEC_NAME)
    throw new SpecError(
      'name',
      `is ${name.length} characters; at most ${MAX_SPEC_NAME}, so the names Tandem derives from it fit in 63 bytes`,
    );
  const named = top.table === undefined ? undefined : parseTableName('table', top.table);
  if (top.schema !== undefined && named)
    throw new SpecError('schema', 'goes with a spec that names no table; write the table as schema.table');
  const schema = named
    ? named.schema
    : top.schema === undefined
      ? undefined
      : parseTableName('schema', top.schema).table;
  const ops = top.operations;
  if (!Array.isArray(ops) || ops.length === 0)
    throw new SpecError('operations', 'must be a non-empty list of operations');
  const operations = ops.map((raw, i): ParsedOperation => {
    const field = `operations[${i}]`;
    const entry = expectObject(field, raw);
    const keys = Object.keys(entry);
    if (keys.length !== 1)
      throw new SpecError(field, `must have exactly one operation key (one of: ${OPERATION_KINDS.join(', ')})`);
    const kind = keys[0];
    if (!(OPERATION_KINDS as string[]).includes(kind)) {
      throw new SpecError(
        `${field}.${kind}`,
        `is not a known operation (expected one of: ${OPERATION_KINDS.join(', ')})`,
      );
    }
    const def = operationOf(kind as OperationKind);
    const body = def.parse(expectObject(`${field}.${kind}`, entry[kind]), `${field}.${kind}`);
    return { kind: kind as OperationKind, field: `${field}.${kind}`, body };
  });
  checkDisjointOffline(operations);
  checkObjectNamesOffline(operations);
  const carrier = carrierTable(operations, named?.table);
  const table = carrier.table;
  // A spec that names no table hashes `table: null` (a named one hashes as it always did).
  const normalized = JSON.stringify({
    name,
    schema: schema ?? null,
    table: named ? table : null,
    operations: operations.map((o) => ({ kind: o.kind, body: o.body })),
  });
  const hash = createHash('sha256').update(normalized).digest('hex');
  return { name, schema, table, ...(carrier.virtual ? { virtualTable: true } : {}), operations, hash };
}

/** Two operations must not touch the same column: names are compared as written (they are quoted). */
function checkDisjointOffline(operations: ParsedOperation[]): void {
  const seen = new Map<string, string>();
  for (const op of operations) {
    // Object operations (indexes, constraints, ...) may name any column, old or new.
    const def = operationOf(op.kind);
    if (!def.touches) continue;
    for (const n of new Set(def.touches(op.body))) {
      const other = seen.get(n);
      if (other)
        throw new SpecError(
          op.field,
          `touches column "${n}", which ${other} touches too; each column may be in one operation only`,
        );
      seen.set(n, op.field);
    }
  }
}

/** Two object operations must not create objects of one name (indexes, constraints and tables share names in a schema). */
function checkObjectNamesOffline(operations: ParsedOperation[]): void {
  const seen = new Map<string, string>();
  for (const op of operations) {
    for (const name of operationOf(op.kind).creates?.(op.body) ?? []) {
      const other = seen.get(name);
      if (other)
        throw new SpecError(
          `${op.field}.name`,
          `"${name}" is also created by ${other}; each object needs its own name`,
        );
      seen.set(name, op.field);
    }
  }
}

/** Check the spec against the live table and compute every operation's column mapping. */
export function resolveSpec(spec: MigrationSpec, table: TableInfo): ResolvedSpec {
  const columnWork = spec.operations.some((op) => changesColumns(op));
  // Only column operations need the primary key (the backfill walks by it) and the bookkeeping columns.
  if (columnWork && table.primaryKey.length === 0) {
    throw new CatalogError(
      'table',
      `${table.schema}.${table.name}`,
      `table ${table.schema}.${table.name} has no primary key; the backfill walks the table by primary key`,
    );
  }
  if (columnWork && table.columns.some((c) => c.name === PENDING_COLUMN)) {
    throw new CatalogError(
      'table',
      PENDING_COLUMN,
      `table ${table.schema}.${table.name} already has a ${PENDING_COLUMN} column: another Tandem migration is in progress on it`,
    );
  }
  const mappings = spec.operations.flatMap((op) => {
    const m = operationOf(op.kind).resolve?.(op.body, table, op.field);
    return m ? [m] : [];
  });
  const pk = new Set(table.primaryKey.map((c) => c.name));
  for (const m of mappings) {
    for (const old of m.oldColumns) {
      if (pk.has(old))
        throw new CatalogError(
          m.field,
          old,
          `column "${old}" is part of the primary key, which Tandem does not refactor`,
        );
      const column = table.columns.find((c) => c.name === old);
      if (column) refuseGeneratedReaders(column, m.field);
    }
  }
  const context = {
    migration: spec.name,
    table,
    newColumns: mappings.flatMap((m) => m.newColumns),
    columnOperations: mappings.map((m) => m.field),
    droppedColumns: mappings.flatMap((m) => m.oldColumns),
    createdTables: spec.operations.flatMap((op) =>
      (operationOf(op.kind).createsTables?.(op.body) ?? []).map((name) => `${table.schema}.${name}`),
    ),
  };
  const objects = spec.operations.flatMap((op) => {
    const def = operationOf(op.kind);
    return def.objects ? [def.objects(op.body, context, op.field)] : [];
  });
  return { spec, table, mappings, objects };
}
