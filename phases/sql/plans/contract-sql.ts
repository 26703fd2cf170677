import { quoteIdent } from '../identifiers';
import { syncsColumns } from '../carrier';
import { PENDING_COLUMN, ResolvedSpec } from '../spec';
import { derivedNames, notNullColumns, PlanStatement, qualifiedFunction, table } from './plan-names';
import { FAILED_COLUMN, MARK_COLUMN, syncTriggers } from './sync-function';
import { carriedAfterDropPlan, carriedContractPlan } from './carried-sql';

/**
 * Before contract, outside its transaction, once verify passed (no flagged row): a plain NOT NULL
 * CHECK, added NOT VALID (catalog only, replaced on a re-run), then validated: VALIDATE takes only
 * SHARE UPDATE EXCLUSIVE, so writes go on. Expand's check lets flagged rows pass, so it cannot
 * prove NOT NULL; this one does, and contract's SET NOT NULL needs no scan.
 */
export function validateChecksPlan(resolved: ResolvedSpec): PlanStatement[] {
  const names = derivedNames(resolved);
  const t = table(resolved);
  return notNullColumns(resolved).flatMap((c) => {
    const strict = quoteIdent(names.notNullStrictCheck(c.name));
    return [
      {
        id: `add-strict-check-${c.name}`,
        sql: `ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${strict}, ADD CONSTRAINT ${strict} CHECK (${quoteIdent(c.name)} IS NOT NULL) NOT VALID`,
      },
      { id: `validate-${c.name}`, sql: `ALTER TABLE ${t} VALIDATE CONSTRAINT ${strict}` },
    ];
  });
}

/**
 * What validateChecksPlan enforces, taken back when contract's transaction does not commit: the old
 * version may still write, and expand's check (not this one) lets its flagged rows through.
 */
export function undoStrictChecksPlan(resolved: ResolvedSpec): PlanStatement[] {
  const names = derivedNames(resolved);
  return notNullColumns(resolved).map((c) => ({
    id: `undo-strict-check-${c.name}`,
    sql: `ALTER TABLE ${table(resolved)} DROP CONSTRAINT IF EXISTS ${quoteIdent(names.notNullStrictCheck(c.name))}`,
  }));
}

/**
 * Contract, one transaction: trigger and function; NOT NULL set while the validated CHECK still
 * proves it (a separate statement, before the CHECK goes: otherwise PostgreSQL rescans the table
 * under ACCESS EXCLUSIVE); defaults that wait for contract; the old columns and the marker.
 */
export function contractPlan(resolved: ResolvedSpec): PlanStatement[] {
  if (!syncsColumns(resolved)) return [];
  const t = table(resolved);
  const names = derivedNames(resolved);
  const statements: PlanStatement[] = [
    { id: 'lock-table', sql: `LOCK TABLE ${t} IN ACCESS EXCLUSIVE MODE` },
    // The backfill drops the pending trigger once no row is pending (executor/pending-trigger.ts).
    ...syncTriggers(resolved).map((tr) => ({
      id: `drop-trigger ${tr.name}`,
      sql: `DROP TRIGGER ${tr.arg === 'pending' ? 'IF EXISTS ' : ''}${quoteIdent(tr.name)} ON ${t}`,
    })),
    { id: 'drop-function', sql: `DROP FUNCTION ${qualifiedFunction(resolved)}()` },
  ];
  for (const c of notNullColumns(resolved)) {
    statements.push({
      id: `set-not-null-${c.name}`,
      sql: `ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(c.name)} SET NOT NULL`,
    });
    statements.push({
      id: `drop-check-${c.name}`,
      sql: `ALTER TABLE ${t} DROP CONSTRAINT ${quoteIdent(names.notNullCheck(c.name))}, DROP CONSTRAINT IF EXISTS ${quoteIdent(names.notNullStrictCheck(c.name))}`,
    });
  }
  for (const c of resolved.mappings.flatMap((m) => m.newColumns)) {
    if (c.default !== undefined && c.defaultAt === 'contract') {
      statements.push({
        id: `default-${c.name}`,
        sql: `ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(c.name)} SET DEFAULT (${c.default})`,
      });
    }
  }
  // Identity and owned sequences move to the new columns while the old ones still hold theirs.
  statements.push(...carriedContractPlan(resolved));
  const drops = [
    ...resolved.mappings.flatMap((m) => m.oldColumns).map((c) => `DROP COLUMN ${quoteIdent(c)}`),
    `DROP COLUMN ${quoteIdent(PENDING_COLUMN)}`,
    `DROP COLUMN ${quoteIdent(MARK_COLUMN)}`,
    `DROP COLUMN ${quoteIdent(FAILED_COLUMN)}`,
  ];
  statements.push(...(resolved.beforeDrop ?? []));
  statements.push({ id: 'drop-columns', sql: `ALTER TABLE ${t}\n  ${drops.join(',\n  ')}` });
  statements.push(...carriedAfterDropPlan(resolved));
  return statements;
}

/** Rollback of expand, one transaction: everything expand added, nothing else. Old columns were never altered for old writers. */
export function rollbackPlan(resolved: ResolvedSpec): PlanStatement[] {
  if (!syncsColumns(resolved)) return [];
  const t = table(resolved);
  const names = derivedNames(resolved);
  const drops = [
    ...notNullColumns(resolved).flatMap((c) => [
      `DROP CONSTRAINT IF EXISTS ${quoteIdent(names.notNullCheck(c.name))}`,
      `DROP CONSTRAINT IF EXISTS ${quoteIdent(names.notNullStrictCheck(c.name))}`,
    ]),
    ...resolved.mappings.flatMap((m) => m.newColumns).map((c) => `DROP COLUMN IF EXISTS ${quoteIdent(c.name)}`),
    `DROP COLUMN IF EXISTS ${quoteIdent(PENDING_COLUMN)}`,
    `DROP COLUMN IF EXISTS ${quoteIdent(MARK_COLUMN)}`,
    `DROP COLUMN IF EXISTS ${quoteIdent(FAILED_COLUMN)}`,
  ];
  return [
    { id: 'lock-table', sql: `LOCK TABLE ${t} IN ACCESS EXCLUSIVE MODE` },
    ...syncTriggers(resolved).map((tr) => ({
      id: `drop-trigger ${tr.name}`,
      sql: `DROP TRIGGER IF EXISTS ${quoteIdent(tr.name)} ON ${t}`,
    })),
    { id: 'drop-function', sql: `DROP FUNCTION IF EXISTS ${qualifiedFunction(resolved)}()` },
    { id: 'alter-table', sql: `ALTER TABLE ${t}\n  ${drops.join(',\n  ')}` },
  ];
}
