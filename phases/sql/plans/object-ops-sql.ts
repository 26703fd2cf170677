import { quoteIdent } from '../identifiers';
import { namesOwnTable } from '../operations';
import { CatalogCondition, ObjectCheck, ObjectTask, ObjectWork } from '../operations';
import { ResolvedSpec } from '../spec';
import { PlanStatement, table } from './plan-names';

/**
 * The object work of a spec (indexes, constraints, defaults, tables, raw SQL), gathered per step
 * from its operations, as data. The executor runs the statements inside the step's transaction and
 * the steps (concurrent index builds, constraints validated in their own transactions) around it.
 */
export function objectWork(resolved: ResolvedSpec): readonly ObjectWork[] {
  return resolved.objects ?? [];
}

export type ObjectPhase = 'afterExpand' | 'beforeContract' | 'afterContract' | 'beforeRollback';

export function objectSteps(resolved: ResolvedSpec, phase: ObjectPhase): ObjectTask[] {
  const work = phase === 'beforeRollback' ? [...objectWork(resolved)].reverse() : objectWork(resolved);
  return work.flatMap((w) => w[phase] ?? []);
}

/** Inside expand's transaction, after the columns and the sync trigger. */
export function objectExpandPlan(resolved: ResolvedSpec): PlanStatement[] {
  return objectWork(resolved).flatMap((w) => w.expand ?? []);
}

/** Inside contract's transaction, after its own statements (the unique constraints USING INDEX, defaults, dropped tables, raw SQL). */
export function objectContractPlan(resolved: ResolvedSpec): PlanStatement[] {
  return objectWork(resolved).flatMap((w) => w.contract ?? []);
}

/** Inside rollback's transaction, in reverse order of the operations (a foreign key goes before the table it references). */
export function objectRollbackPlan(resolved: ResolvedSpec): PlanStatement[] {
  const statements = [...objectWork(resolved)].reverse().flatMap((w) => w.rollback ?? []);
  return statements.length
    ? [{ id: 'lock-table', sql: `LOCK TABLE ${table(resolved)} IN ACCESS EXCLUSIVE MODE` }, ...statements]
    : [];
}

export function objectChecks(resolved: ResolvedSpec): ObjectCheck[] {
  return objectWork(resolved).flatMap((w) => w.checks ?? []);
}

export function objectLiveConditions(resolved: ResolvedSpec): CatalogCondition[] {
  // On a table the spec creates, nothing exists yet to collide with: only the operations that name their own table check the catalog.
  return objectWork(resolved).flatMap((w) => (resolved.spec.virtualTable && !namesOwnTable(w) ? [] : (w.live ?? [])));
}

export function objectContractBlockers(resolved: ResolvedSpec): CatalogCondition[] {
  return objectWork(resolved).flatMap((w) => w.contractBlockers ?? []);
}

/** Tables the spec creates at expand, and tables it drops at contract. */
export function createdTables(resolved: ResolvedSpec): { schema: string; name: string }[] {
  return objectWork(resolved).flatMap((w) => w.createsTables ?? []);
}

export function droppedTables(resolved: ResolvedSpec): { schema: string; name: string }[] {
  return objectWork(resolved).flatMap((w) => w.dropsTables ?? []);
}

/**
 * What `beforeContract` enforced, undone in reverse order when contract does not commit: each
 * unique index built is dropped concurrently, each constraint added is dropped. Until contract's
 * transaction commits, an old version may still run (or be walked back to), and must not be
 * refused by what only the new versions keep.
 */
export function undoBeforeContract(resolved: ResolvedSpec): ObjectTask[] {
  const out: ObjectTask[] = [];
  const seen = new Set<string>();
  for (const s of [...objectSteps(resolved, 'beforeContract')].reverse()) {
    if (s.kind === 'index_build')
      out.push({ kind: 'index_drop', id: `undo-${s.id}`, schema: s.schema, index: s.index, created: true });
    const undo = s.kind === 'transaction' ? (s.undo ?? s.onDataError?.undo) : undefined;
    if (undo && !seen.has(undo)) {
      seen.add(undo);
      out.push({ kind: 'transaction', id: `undo-${s.id}`, sql: undo });
    }
  }
  return out;
}

/** Indexes (`schema.name`) the spec drops at contract. */
export function droppedIndexes(resolved: ResolvedSpec): string[] {
  return objectWork(resolved).flatMap((w) => w.dropsIndexes ?? []);
}

/**
 * The trial of the object work, for validate's rolled-back transaction: an empty temporary copy of
 * the table under the same name (so `table.column` reads the same), with the spec's new columns,
 * on which each index, check and default is created for real. O(1): the copy has no rows.
 */
export function objectTrialPlan(resolved: ResolvedSpec): { field: string; sql: string }[] {
  const trials = objectWork(resolved).flatMap((w) => w.trial ?? []);
  // A table the spec creates (or none) has no copy to try them on: expand's own transaction is their trial.
  if (!trials.length || resolved.spec.virtualTable) return [];
  const copy = `pg_temp.${quoteIdent(resolved.table.name)}`;
  const newColumns = resolved.mappings.flatMap((m) => m.newColumns);
  return [
    { field: 'table', sql: `CREATE TEMP TABLE ${quoteIdent(resolved.table.name)} (LIKE ${table(resolved)})` },
    ...newColumns.map((c) => ({
      field: `${c.field}.type`,
      sql: `ALTER TABLE ${copy} ADD COLUMN ${quoteIdent(c.name)} ${c.type}`,
    })),
    ...trials.map((t) => ({ field: t.id, sql: t.sql })),
  ];
}

/** Object steps as a script for `tandem sql`: each outside the step's transaction, in order. */
export function objectStepsScript(title: string, steps: readonly ObjectTask[]): string {
  if (!steps.length) return '';
  const body = steps.map((s) => {
    if (s.kind === 'index_build') {
      return `-- ${s.id}: skipped when the index is valid; an INVALID leftover is dropped concurrently first; on a partitioned table, an index ON ONLY it, then each partition's index built concurrently and attached\n${s.sql};`;
    }
    if (s.kind === 'index_drop')
      return `-- ${s.id}\nDROP INDEX CONCURRENTLY IF EXISTS ${quoteIdent(s.schema)}.${quoteIdent(s.index)};`;
    return `-- ${s.id}: its own transaction${s.unless ? ', skipped when it exists' : ''}\n${s.sql};`;
  });
  return `\n-- ${title}: outside the transaction, lock_timeout set, statement_timeout off for index builds and VALIDATE (a partitioned index is dropped with DROP INDEX in a short transaction)\n${body.join('\n\n')}\n`;
}
