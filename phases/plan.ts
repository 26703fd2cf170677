import { createHash } from 'crypto';
import { BODY_TAG } from './expression';
import { quoteIdent, quoteQualified } from './identifiers';
import { ColumnMapping, NewColumn } from './operations';
import { PENDING_COLUMN, ResolvedSpec } from './spec';

/**
 * SQL plans per step, as data. Pure: no connections. The executor runs each plan's statements in
 * one transaction under a short lock_timeout, retried with backoff.
 */
export interface PlanStatement {
  readonly id: string;
  readonly sql: string;
}

export const STATE_SCHEMA = 'tandem';

/** Names Tandem derives from the spec name (`[a-z0-9-]{1,40}`), so they always fit in 63 bytes. */
export function derivedNames(resolved: ResolvedSpec) {
  const base = resolved.spec.name.replace(/-/g, '_');
  return {
    // BEFORE ROW triggers fire in name order: `zz_` lets the app's own BEFORE triggers (which may
    // normalize a value) run first, so the sync sees the row as it will be stored.
    trigger: `zz_tandem_sync_${base}`,
    functionSchema: STATE_SCHEMA,
    function: `sync_${base}`,
    // Never truncated: a short hash of the column keeps two long column names apart.
    notNullCheck: (column: string) => `_tandem_nn_${base}_${createHash('sha256').update(column).digest('hex').slice(0, 10)}`,
  };
}

function table(resolved: ResolvedSpec): string {
  return quoteQualified(resolved.table.schema, resolved.table.name);
}

function notNullColumns(resolved: ResolvedSpec): NewColumn[] {
  return resolved.mappings.flatMap((m) => m.newColumns.filter((c) => c.notNull));
}

function qualifiedFunction(resolved: ResolvedSpec): string {
  const n = derivedNames(resolved);
  return quoteQualified(n.functionSchema, n.function);
}

/** Expand: new columns (nullable), the pending marker, defaults, NOT NULL checks NOT VALID, sync function and trigger. */
export function expandPlan(resolved: ResolvedSpec): PlanStatement[] {
  const t = table(resolved);
  const names = derivedNames(resolved);
  const newColumns = resolved.mappings.flatMap((m) => m.newColumns);
  const adds = [
    ...newColumns.map((c) => `ADD COLUMN ${quoteIdent(c.name)} ${c.type}`),
    // A constant default is a catalog-only change (PostgreSQL 11+): every existing row reads true.
    `ADD COLUMN ${quoteIdent(PENDING_COLUMN)} boolean DEFAULT true`,
  ];
  const statements: PlanStatement[] = [
    { id: 'lock-table', sql: `LOCK TABLE ${t} IN ACCESS EXCLUSIVE MODE` },
    { id: 'add-columns', sql: `ALTER TABLE ${t}\n  ${adds.join(',\n  ')}` },
    { id: 'pending-default', sql: `ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(PENDING_COLUMN)} SET DEFAULT false` },
  ];
  for (const c of newColumns) {
    if (c.default !== undefined && c.defaultAt !== 'contract') {
      // Set after ADD COLUMN, so a volatile default never rewrites the table; existing rows get it from the backfill.
      statements.push({ id: `default-${c.name}`, sql: `ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(c.name)} SET DEFAULT (${c.default})` });
    }
  }
  for (const c of notNullColumns(resolved)) {
    statements.push({
      id: `not-null-check-${c.name}`,
      sql: `ALTER TABLE ${t} ADD CONSTRAINT ${quoteIdent(names.notNullCheck(c.name))} CHECK (${quoteIdent(c.name)} IS NOT NULL) NOT VALID`,
    });
  }
  statements.push({ id: 'sync-function', sql: syncFunctionSql(resolved) });
  statements.push({
    id: 'sync-trigger',
    // The WHEN clause spares the backfill's own rows a PL/pgSQL call (the function checks again).
    sql: `CREATE TRIGGER ${quoteIdent(names.trigger)} BEFORE INSERT OR UPDATE ON ${t} FOR EACH ROW WHEN (current_setting('tandem.backfill', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION ${qualifiedFunction(resolved)}()`,
  });
  return statements;
}

/** PL/pgSQL variables are named after the table's columns, so up/down expressions read like SQL over the row (as in pgroll). */
const RESERVED_VARIABLES = new Set(['new', 'old', 'found', 'tg_op', 'tg_name', 'tg_when', 'tg_level', 'tg_relid', 'tg_table_name', 'tg_table_schema', 'tg_nargs', 'tg_argv']);

function anyOf(parts: string[], empty: string): string {
  return parts.length ? parts.join(' OR ') : empty;
}

/** Compared as text: every type has a text form, not every type has `=` (json, xml, point), and text sees 1.0 -> 1.00. */
function changed(column: string): string {
  return `NEW.${quoteIdent(column)}::text IS DISTINCT FROM OLD.${quoteIdent(column)}::text`;
}

function mappingBlock(resolved: ResolvedSpec, m: ColumnMapping, index: number): string {
  const oldCols = m.oldColumns;
  const newCols = m.newColumns;
  const q = quoteIdent;
  const column = (name: string) => resolved.table.columns.find((c) => c.name === name);
  // On INSERT, a side with no columns counts as written: add_column derives its column unless the
  // writer set it; drop_column derives the old column unless the writer set it.
  const insertOld = anyOf(oldCols.map((c) => `NEW.${q(c)} IS NOT NULL`), 'true');
  // A writer of the new side that omits an old column gets the column's default there: that is not
  // a write of the old side. (Defaults that draw from a sequence are not evaluated twice.)
  const insertOldBesidesDefaults = anyOf(
    oldCols.map((c) => {
      const d = column(c)?.defaultExpr;
      return d !== undefined && !/nextval\(/i.test(d)
        ? `(NEW.${q(c)} IS NOT NULL AND NEW.${q(c)}::text IS DISTINCT FROM (${d})::${column(c)!.type}::text)`
        : `NEW.${q(c)} IS NOT NULL`;
    }),
    'true',
  );
  const insertNew = anyOf(newCols.map((c) => `NEW.${q(c.name)} IS NOT NULL`), 'true');
  const updateOld = anyOf(oldCols.map(changed), 'false');
  const updateNew = anyOf(newCols.map((c) => changed(c.name)), 'false');
  const assign = (name: string, expr: string, indent: string) => `${indent}NEW.${q(name)} := (${expr});\n${indent}${q(name)} := NEW.${q(name)};`;
  const withUp = newCols.filter((c) => c.up !== undefined);
  const deriveNew = withUp.map((c) => assign(c.name, c.up!, '    '));
  const fillUnwritten = withUp.map((c) => `        IF NOT (${changed(c.name)}) THEN\n${assign(c.name, c.up!, '          ')}\n        END IF;`);
  const deriveOld = oldCols.filter((c) => m.down[c] !== undefined).map((c) => assign(c, m.down[c], '    '));
  return [
    `  -- ${index + 1}. ${m.label}`,
    `  IF TG_OP = 'INSERT' THEN`,
    `    _tandem_new_written := ${insertNew};`,
    `    IF _tandem_new_written THEN`,
    `      _tandem_old_written := ${insertOldBesidesDefaults};`,
    `    ELSE`,
    `      _tandem_old_written := ${insertOld};`,
    `    END IF;`,
    `  ELSE`,
    `    _tandem_old_written := ${updateOld};`,
    `    _tandem_new_written := ${updateNew};`,
    `    IF OLD.${q(PENDING_COLUMN)} THEN`,
    `      IF NOT _tandem_new_written THEN`,
    `        -- A row the backfill has not reached yet gets its new side from the old one now.`,
    `        _tandem_old_written := true;`,
    `      ELSIF NOT _tandem_old_written THEN`,
    `        -- A write of part of the new side on such a row: the rest of the new side comes from the`,
    `        -- old one first, so deriving the old side below loses nothing.`,
    ...(fillUnwritten.length ? fillUnwritten : ['        NULL;']),
    `      END IF;`,
    `    END IF;`,
    `  END IF;`,
    `  IF _tandem_old_written AND NOT _tandem_new_written THEN`,
    ...(deriveNew.length ? deriveNew : ['    NULL;']),
    `  ELSIF _tandem_new_written AND NOT _tandem_old_written THEN`,
    ...(deriveOld.length ? deriveOld : ['    NULL;']),
    `  END IF;`,
  ].join('\n');
}

/**
 * The sync trigger decides by what the writer changed: old side only -> new columns from `up`;
 * new side only -> old columns from `down`; both (v2 dual-write) -> both kept as written. A write
 * of the old side is never altered. The backfill sets `tandem.backfill` so its own writes pass
 * through. The function keeps the migrator's search_path, so an expression means the same for
 * every writer (the app role's search_path may differ).
 */
export function syncFunctionSql(resolved: ResolvedSpec): string {
  const declared = resolved.table.columns
    .filter((c) => c.name !== PENDING_COLUMN && !RESERVED_VARIABLES.has(c.name.toLowerCase()))
    .map((c) => ({ name: c.name, type: c.type }));
  for (const m of resolved.mappings) for (const c of m.newColumns) declared.push({ name: c.name, type: c.type });
  const body = [
    'DECLARE',
    ...declared.map((c) => `  ${quoteIdent(c.name)} ${c.type} := NEW.${quoteIdent(c.name)};`),
    '  _tandem_old_written boolean;',
    '  _tandem_new_written boolean;',
    'BEGIN',
    `  IF current_setting('tandem.backfill', true) = 'on' THEN RETURN NEW; END IF;`,
    ...resolved.mappings.map((m, i) => mappingBlock(resolved, m, i)),
    `  NEW.${quoteIdent(PENDING_COLUMN)} := false;`,
    '  RETURN NEW;',
    'END',
  ].join('\n');
  return `CREATE FUNCTION ${qualifiedFunction(resolved)}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS ${BODY_TAG}\n${body}\n${BODY_TAG}`;
}

function pkList(resolved: ResolvedSpec, alias?: string): string {
  return resolved.table.primaryKey.map((c) => (alias ? `${alias}.` : '') + quoteIdent(c.name)).join(', ');
}

function pkParams(resolved: ResolvedSpec, offset: number): string {
  return resolved.table.primaryKey.map((c, i) => `$${i + offset}::${c.type}`).join(', ');
}

/** The primary key of a row, as JSON text values, for checkpoints and sample keys. */
export function pkJson(resolved: ResolvedSpec, alias?: string): string {
  return `json_build_array(${resolved.table.primaryKey.map((c) => `${alias ? `${alias}.` : ''}${quoteIdent(c.name)}::text`).join(', ')})`;
}

/** Upper bound of the backfill: rows inserted later are synced by the trigger, so the walk always ends. */
export function backfillBoundSql(resolved: ResolvedSpec): string {
  return `SELECT ${pkJson(resolved, 't')} AS key FROM ${table(resolved)} t ORDER BY ${resolved.table.primaryKey.map((c) => `t.${quoteIdent(c.name)} DESC`).join(', ')} LIMIT 1`;
}

/**
 * A keyset batch is two statements in one short transaction. First the batch's top key: the
 * `$1`-th key (0-based OFFSET) after the checkpoint, or none when fewer rows remain before the
 * bound (then the bound is the top and this is the last batch). Params: $1, the checkpoint key
 * (when there is one), the bound key.
 */
export function backfillTopKeySql(resolved: ResolvedSpec, hasCheckpoint: boolean): string {
  const t = table(resolved);
  const k = resolved.table.primaryKey.length;
  const after = hasCheckpoint ? `(${pkList(resolved, 's')}) > (${pkParams(resolved, 2)}) AND ` : '';
  return [
    `SELECT ${pkJson(resolved, 's')} AS key FROM ${t} s`,
    `WHERE ${after}(${pkList(resolved, 's')}) <= (${pkParams(resolved, hasCheckpoint ? k + 2 : 2)})`,
    `ORDER BY ${pkList(resolved, 's')} OFFSET $1 LIMIT 1`,
  ].join('\n');
}

/**
 * Then one UPDATE over the key range (checkpoint, top], an index range scan with no join, of
 * the rows still pending, by the same `up` expressions the trigger uses. Params: the checkpoint
 * key (when there is one), then the top key.
 */
export function backfillRangeSql(resolved: ResolvedSpec, hasCheckpoint: boolean): string {
  const t = table(resolved);
  const k = resolved.table.primaryKey.length;
  const sets = resolved.mappings
    .flatMap((m) => m.newColumns)
    .filter((c) => c.up !== undefined)
    .map((c) => `${quoteIdent(c.name)} = (${c.up})`);
  sets.push(`${quoteIdent(PENDING_COLUMN)} = false`);
  const after = hasCheckpoint ? `(${pkList(resolved)}) > (${pkParams(resolved, 1)}) AND ` : '';
  return [
    `UPDATE ${t} SET ${sets.join(', ')}`,
    `WHERE ${after}(${pkList(resolved)}) <= (${pkParams(resolved, hasCheckpoint ? k + 1 : 1)}) AND ${quoteIdent(PENDING_COLUMN)}`,
  ].join('\n');
}

/**
 * Per operation, the row predicate verify checks: new = up(old) OR old = down(new), compared as
 * text after casting to the column's type (as the trigger assigns), so types without `=` work.
 */
export function consistencyPredicate(resolved: ResolvedSpec, m: ColumnMapping): string {
  const q = quoteIdent;
  const same = (column: string, type: string, expr: string) => `${q(column)}::text IS NOT DISTINCT FROM ((${expr})::${type})::text`;
  const oldType = (name: string) => resolved.table.columns.find((c) => c.name === name)?.type ?? 'text';
  const upHolds = m.newColumns.filter((c) => c.up !== undefined && m.kind !== 'add_column').map((c) => same(c.name, c.type, c.up!));
  const downHolds = m.oldColumns.filter((c) => m.down[c] !== undefined && m.newColumns.length > 0).map((c) => same(c, oldType(c), m.down[c]));
  const sides = [upHolds, downHolds].filter((x) => x.length > 0).map((x) => `(${x.join(' AND ')})`);
  const consistent = sides.length ? sides.join(' OR ') : 'true';
  const notNull = m.newColumns.filter((c) => c.notNull).map((c) => `${q(c.name)} IS NOT NULL`);
  return notNull.length ? `(${consistent}) AND ${notNull.join(' AND ')}` : consistent;
}

/**
 * One scan: row count, pending rows, and per operation the inconsistent rows with up to 10 sample
 * keys. No alias: expressions read the table exactly as in the backfill's UPDATE.
 */
export function verifySql(resolved: ResolvedSpec): string {
  const t = table(resolved);
  const pending = `${quoteIdent(PENDING_COLUMN)} IS TRUE`;
  const key = `${pkJson(resolved)}::text`;
  const cols = [`count(*)::bigint AS rows`, `count(*) FILTER (WHERE ${pending})::bigint AS pending`];
  cols.push(`(array_agg(${key} ORDER BY ${pkList(resolved)}) FILTER (WHERE ${pending}))[1:10] AS pending_sample`);
  resolved.mappings.forEach((m, i) => {
    const bad = `NOT (${consistencyPredicate(resolved, m)})`;
    cols.push(`count(*) FILTER (WHERE ${bad})::bigint AS bad_${i}`);
    cols.push(`(array_agg(${key} ORDER BY ${pkList(resolved)}) FILTER (WHERE ${bad}))[1:10] AS bad_sample_${i}`);
  });
  return `SELECT ${cols.join(',\n       ')}\nFROM ${t}`;
}

/** Before contract, outside its transaction: VALIDATE takes only SHARE UPDATE EXCLUSIVE, so writes go on. */
export function validateChecksPlan(resolved: ResolvedSpec): PlanStatement[] {
  const names = derivedNames(resolved);
  return notNullColumns(resolved).map((c) => ({
    id: `validate-${c.name}`,
    sql: `ALTER TABLE ${table(resolved)} VALIDATE CONSTRAINT ${quoteIdent(names.notNullCheck(c.name))}`,
  }));
}

/**
 * Contract, one transaction: trigger and function; NOT NULL set while the validated CHECK still
 * proves it (a separate statement, before the CHECK goes: otherwise PostgreSQL rescans the table
 * under ACCESS EXCLUSIVE); defaults that wait for contract; the old columns and the marker.
 */
export function contractPlan(resolved: ResolvedSpec): PlanStatement[] {
  const t = table(resolved);
  const names = derivedNames(resolved);
  const statements: PlanStatement[] = [
    { id: 'lock-table', sql: `LOCK TABLE ${t} IN ACCESS EXCLUSIVE MODE` },
    { id: 'drop-trigger', sql: `DROP TRIGGER ${quoteIdent(names.trigger)} ON ${t}` },
    { id: 'drop-function', sql: `DROP FUNCTION ${qualifiedFunction(resolved)}()` },
  ];
  for (const c of notNullColumns(resolved)) {
    statements.push({ id: `set-not-null-${c.name}`, sql: `ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(c.name)} SET NOT NULL` });
    statements.push({ id: `drop-check-${c.name}`, sql: `ALTER TABLE ${t} DROP CONSTRAINT ${quoteIdent(names.notNullCheck(c.name))}` });
  }
  for (const c of resolved.mappings.flatMap((m) => m.newColumns)) {
    if (c.default !== undefined && c.defaultAt === 'contract') {
      statements.push({ id: `default-${c.name}`, sql: `ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(c.name)} SET DEFAULT (${c.default})` });
    }
  }
  const drops = [...resolved.mappings.flatMap((m) => m.oldColumns).map((c) => `DROP COLUMN ${quoteIdent(c)}`), `DROP COLUMN ${quoteIdent(PENDING_COLUMN)}`];
  statements.push({ id: 'drop-columns', sql: `ALTER TABLE ${t}\n  ${drops.join(',\n  ')}` });
  return statements;
}

/** Rollback of expand, one transaction: everything expand added, nothing else. Old columns were never altered for old writers. */
export function rollbackPlan(resolved: ResolvedSpec): PlanStatement[] {
  const t = table(resolved);
  const names = derivedNames(resolved);
  const drops = [
    ...notNullColumns(resolved).map((c) => `DROP CONSTRAINT IF EXISTS ${quoteIdent(names.notNullCheck(c.name))}`),
    ...resolved.mappings.flatMap((m) => m.newColumns).map((c) => `DROP COLUMN IF EXISTS ${quoteIdent(c.name)}`),
    `DROP COLUMN IF EXISTS ${quoteIdent(PENDING_COLUMN)}`,
  ];
  return [
    { id: 'lock-table', sql: `LOCK TABLE ${t} IN ACCESS EXCLUSIVE MODE` },
    { id: 'drop-trigger', sql: `DROP TRIGGER IF EXISTS ${quoteIdent(names.trigger)} ON ${t}` },
    { id: 'drop-function', sql: `DROP FUNCTION IF EXISTS ${qualifiedFunction(resolved)}()` },
    { id: 'alter-table', sql: `ALTER TABLE ${t}\n  ${drops.join(',\n  ')}` },
  ];
}

/**
 * The trial parses validate runs before anything exists: PREPARE analyses an expression against
 * the table without executing anything. `up` is read as the backfill reads it (no alias); `down`
 * over the table with the new columns added (as NULLs), under the table's own name.
 */
export function trialParseSql(resolved: ResolvedSpec): { field: string; sql: string }[] {
  const t = table(resolved);
  const checks: { field: string; sql: string }[] = [];
  const allNew = resolved.mappings.flatMap((m) => m.newColumns);
  const self = quoteIdent(resolved.table.name);
  const withNew = allNew.length ? `(SELECT ${self}.*, ${allNew.map((c) => `NULL::${c.type} AS ${quoteIdent(c.name)}`).join(', ')} FROM ${t}) AS ${self}` : t;
  for (const m of resolved.mappings) {
    for (const c of m.newColumns) {
      checks.push({ field: `${c.field}.type`, sql: `SELECT NULL::${c.type}` });
      if (c.up !== undefined) checks.push({ field: `${c.field}.${m.kind === 'add_column' && c.up === c.default ? 'default' : 'up'}`, sql: `SELECT (${c.up})::${c.type} FROM ${t}` });
      if (c.default !== undefined) checks.push({ field: `${c.field}.default`, sql: `SELECT (${c.default})::${c.type}` });
    }
    for (const old of m.oldColumns) {
      const expr = m.down[old];
      const type = resolved.table.columns.find((c) => c.name === old)?.type;
      if (expr !== undefined && type) checks.push({ field: m.kind === 'merge_columns' ? `${m.field}.down.${old}` : `${m.field}.down`, sql: `SELECT (${expr})::${type} FROM ${withNew}` });
    }
  }
  return checks;
}

/**
 * Probes run inside expand's transaction, once everything exists, each under a savepoint that is
 * rolled back: the backfill and verify statements are parsed for real, and the sync trigger runs
 * on one row both ways (old side written -> up; new side written -> down), so an expression that
 * parses in a SELECT but fails in PL/pgSQL fails expand, not the app's next write.
 */
export function expandProbes(resolved: ResolvedSpec): { id: string; sql: string; prepare: boolean }[] {
  const t = table(resolved);
  const firstRow = `ctid = (SELECT ctid FROM ${t} LIMIT 1)`;
  const withUp = resolved.mappings.flatMap((m) => m.newColumns).filter((c) => c.up !== undefined);
  const probes = [
    { id: 'the backfill statement', sql: backfillRangeSql(resolved, true), prepare: true },
    { id: 'the verify statement', sql: verifySql(resolved), prepare: true },
    { id: 'the sync trigger, old side written (up)', sql: `UPDATE ${t} SET ${quoteIdent(PENDING_COLUMN)} = true WHERE ${firstRow}`, prepare: false },
  ];
  if (withUp.length) {
    probes.push({
      id: 'the sync trigger, new side written (down)',
      sql: `UPDATE ${t} SET ${withUp.map((c) => `${quoteIdent(c.name)} = (${c.up})`).join(', ')} WHERE ${firstRow}`,
      prepare: false,
    });
  }
  return probes;
}
