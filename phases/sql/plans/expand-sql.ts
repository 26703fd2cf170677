import { quoteIdent } from '../identifiers';
import { syncsColumns } from '../carrier';
import { downFieldOf, mappingFacts, upFieldOf } from '../operations';
import { needsBackfill, PENDING_COLUMN, ResolvedSpec } from '../spec';
import { backfillRangeSql } from './backfill-sql';
import { carriedExpandPlan, collateClause } from './carried-sql';
import { derivedNames, notNullColumns, PlanStatement, table } from './plan-names';
import {
  createTriggerSql,
  FAILED_COLUMN,
  MARK_COLUMN,
  syncFunctionStatements,
  syncTriggers,
  triggerStatements,
} from './sync-function';
import { verifySql } from './verify-sql';

/** Expand: new columns (nullable), the pending marker, defaults, NOT NULL checks NOT VALID, sync function and trigger. */
export function expandPlan(resolved: ResolvedSpec): PlanStatement[] {
  // An object-only spec keeps no column in sync: no bookkeeping columns, function or trigger.
  if (!syncsColumns(resolved)) return [];
  const t = table(resolved);
  const names = derivedNames(resolved);
  const newColumns = resolved.mappings.flatMap((m) => m.newColumns);
  const adds = [
    // A constant default in ADD COLUMN is catalog-only (PostgreSQL 11+ fast default).
    ...newColumns.map(
      (c) =>
        `ADD COLUMN ${quoteIdent(c.name)} ${c.type}${collateClause(c)}${c.defaultAt === 'add' ? ` DEFAULT (${c.default})` : ''}`,
    ),
    // A constant default is a catalog-only change (PostgreSQL 11+): every existing row reads true,
    // or false when no new column needs the backfill (drop_column, constant defaults).
    `ADD COLUMN ${quoteIdent(PENDING_COLUMN)} boolean DEFAULT ${needsBackfill(resolved) ? 'true' : 'false'}`,
    // Nullable, no default: catalog-only. See sync-function.ts.
    `ADD COLUMN ${quoteIdent(MARK_COLUMN)} integer`,
    `ADD COLUMN ${quoteIdent(FAILED_COLUMN)} jsonb`,
  ];
  const statements: PlanStatement[] = [
    { id: 'lock-table', sql: `LOCK TABLE ${t} IN ACCESS EXCLUSIVE MODE` },
    { id: 'add-columns', sql: `ALTER TABLE ${t}\n  ${adds.join(',\n  ')}` },
    { id: 'pending-default', sql: `ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(PENDING_COLUMN)} SET DEFAULT false` },
    ...carriedExpandPlan(resolved),
  ];
  for (const c of newColumns) {
    if (c.default !== undefined && c.defaultAt === 'expand') {
      // Set after ADD COLUMN, so a volatile default never rewrites the table; existing rows get it from the backfill.
      statements.push({
        id: `default-${c.name}`,
        sql: `ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(c.name)} SET DEFAULT (${c.default})`,
      });
    }
  }
  for (const c of notNullColumns(resolved)) {
    statements.push({
      id: `not-null-check-${c.name}`,
      // A row whose sync failed (flagged, `_tandem_pending` NULL) passes: the old version's write goes
      // through and verify and contract refuse until the row is fixed.
      sql: `ALTER TABLE ${t} ADD CONSTRAINT ${quoteIdent(names.notNullCheck(c.name))} CHECK (${quoteIdent(c.name)} IS NOT NULL OR ${quoteIdent(PENDING_COLUMN)} IS NULL) NOT VALID`,
    });
  }
  statements.push(...syncFunctionStatements(resolved));
  // The WHEN clauses spare the backfill's own rows a PL/pgSQL call.
  for (const trigger of syncTriggers(resolved))
    statements.push({ id: `sync-trigger ${trigger.name}`, sql: createTriggerSql(resolved, trigger) });
  return statements;
}

/**
 * The trial parses validate runs before anything exists: PREPARE analyses an expression against
 * the table without executing anything. `up` is read as the backfill reads it (no alias); `down`
 * over the table with the new columns added (as NULLs), under the table's own name.
 */
export function trialParseSql(
  resolved: ResolvedSpec,
): { field: string; sql: string; execute?: boolean; about?: string }[] {
  const t = table(resolved);
  const checks: { field: string; sql: string; execute?: boolean; about?: string }[] = [];
  const allNew = resolved.mappings.flatMap((m) => m.newColumns);
  const self = quoteIdent(resolved.table.name);
  const withNew = allNew.length
    ? `(SELECT ${self}.*, ${allNew.map((c) => `NULL::${c.type} AS ${quoteIdent(c.name)}`).join(', ')} FROM ${t}) AS ${self}`
    : t;
  for (const m of resolved.mappings) {
    for (const c of m.newColumns) {
      checks.push({ field: `${c.field}.type`, sql: `SELECT NULL::${c.type}` });
      if (c.up !== undefined) checks.push({ field: upFieldOf(m, c), sql: `SELECT (${c.up})::${c.type} FROM ${t}` });
      const old = resolved.table.columns.find((x) => x.name === m.oldColumns[0]);
      // The old column's default converted (not one the spec gives, e.g. change_type's `default`).
      if (
        c.default !== undefined &&
        mappingFacts(m).convertsOldDefault &&
        old?.defaultExpr !== undefined &&
        c.default === `(${old.defaultExpr})::${c.type}`
      ) {
        // The old column's default, converted: run (not only parsed) unless it is volatile, so a value
        // that does not convert ('none'::integer) is refused now, not by the first insert after contract.
        checks.push({
          field: `${m.field}.type`,
          sql: `SELECT (${c.default})::${c.type}`,
          execute: !old?.volatileDefault,
          about: `the default of ${m.oldColumns[0]} (${old?.defaultExpr}) moves to ${c.name} at contract and must convert to ${c.type}`,
        });
      } else if (c.default !== undefined)
        checks.push({ field: `${c.field}.default`, sql: `SELECT (${c.default})::${c.type}` });
    }
    for (const old of m.oldColumns) {
      const expr = m.down[old];
      const type = resolved.table.columns.find((c) => c.name === old)?.type;
      if (expr !== undefined && type)
        checks.push({ field: downFieldOf(m, old), sql: `SELECT (${expr})::${type} FROM ${withNew}` });
    }
  }
  return checks;
}

/**
 * Probes run inside expand's transaction, once everything exists, each under a savepoint that is
 * rolled back, and touch no row (so an empty table is probed as fully as a full one, no constraint
 * of the table gets in the way, and nothing scans the table under the lock). PREPARE parses and
 * analyses without executing: the backfill and verify statements; an UPDATE assigning every `down`
 * to its old column (the coercion rules of an assignment, as the trigger's INTO applies them); and
 * every statement the sync trigger evaluates, with the same text, the row being `$1` of the table's
 * row type where the trigger has NEW/OLD. An expression that parses in a SELECT but not in the
 * trigger (an ambiguous name, a table alias, a type the column does not take) fails expand.
 */
export function expandProbes(
  resolved: ResolvedSpec,
): { id: string; sql: string; prepare: boolean; rowType?: string }[] {
  if (!syncsColumns(resolved)) return [];
  const t = table(resolved);
  const probes: { id: string; sql: string; prepare: boolean; rowType?: string }[] = [
    { id: 'the backfill statement', sql: backfillRangeSql(resolved, true), prepare: true },
    { id: 'the verify statement', sql: verifySql(resolved), prepare: true },
  ];
  // A GENERATED ALWAYS identity cannot be named in an UPDATE's SET list (the trigger may assign it):
  // its `down` is probed as an INSERT's, whose assignment coercion is the same.
  const always = new Set(resolved.table.columns.filter((c) => c.properties?.identity?.kind === 'a').map((c) => c.name));
  const assigned = resolved.mappings.flatMap((m) =>
    m.oldColumns.filter((c) => m.down[c] !== undefined).map((c) => ({ c, expr: m.down[c] })),
  );
  const downs = assigned.filter((d) => !always.has(d.c)).map((d) => `${quoteIdent(d.c)} = (${d.expr})`);
  if (downs.length)
    probes.push({
      id: 'the down expressions, assigned to the old columns',
      sql: `UPDATE ${t} SET ${downs.join(', ')}`,
      prepare: true,
    });
  for (const d of assigned.filter((x) => always.has(x.c))) {
    probes.push({
      id: `the down expression, assigned to the identity column ${d.c}`,
      sql: `INSERT INTO ${t} (${quoteIdent(d.c)}) OVERRIDING SYSTEM VALUE SELECT (${d.expr}) FROM ${t}`,
      prepare: true,
    });
  }
  for (const s of triggerStatements(resolved)) probes.push({ id: s.id, sql: s.sql, prepare: true, rowType: t });
  return probes;
}
