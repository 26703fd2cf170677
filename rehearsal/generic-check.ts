import { Queryable } from '../app/customer-store';
import { quoteIdent } from '../phases/sql/identifiers';
import { ExpressionEvaluator, Row } from './expression-evaluator';
import { MappingPool, sameValues, Values } from './round-trip';
import { RowLedger, RowWrite } from './row-ledger';
import { rowArraySql, toRow } from './row-seeder';
import { TableModel } from './table-model';

/** An acknowledged write that a reader, or the table, did not show as written. */
export interface GenericMismatch {
  readonly seq: number;
  /** The row's primary key (JSON array of text). */
  readonly id: string;
  readonly version: string;
  readonly op: string;
  readonly stage: string;
  readonly seenBy: string;
  readonly expected: Values;
  readonly actual: Values | null;
}

/** What a comparison can see: which sides of the operations, and which other columns. */
export interface View {
  readonly old: boolean;
  readonly new: boolean;
  readonly untouched: readonly string[];
}

export interface Observation {
  readonly write: RowWrite;
  readonly actual: Row | null;
  readonly view: View;
  readonly seenBy: string;
}

/**
 * A trigger cannot tell an INSERT that names a column and gives it NULL from one that leaves the
 * column out: an old version's explicit NULL in an old column is taken as "not written", and the
 * column gets down(new) like a new version's insert. The one case the check accepts (docs/executor.md, Known
 * limits), for as long as no later write set the old side again.
 */
function insertedNullDerived(mw: RowWrite['mappings'][number], a: Row, columns: readonly string[]): boolean {
  const may = mw.nullMayBe;
  if (!may) return false;
  return columns.every(
    (c) => (a[c] ?? null) === (mw.old[c] ?? null) || (mw.old[c] === null && (a[c] ?? null) === (may[c] ?? null)),
  );
}

interface Lenient {
  readonly obs: number;
  readonly pool: number;
  /** Evaluate `up` over the row seen and compare with the write's new side, or `down` and the old side. */
  readonly direction: 'up' | 'down';
}

/**
 * The observations that differ from their write where the write is exact (failed), and the
 * comparisons that must instead be evaluated through the spec's expressions (lenient).
 */
function directMismatches(
  pools: readonly MappingPool[],
  observations: readonly Observation[],
): { failed: Set<number>; lenient: Lenient[] } {
  const failed = new Set<number>();
  const lenient: Lenient[] = [];
  observations.forEach((o, i) => {
    const w = o.write;
    const a = o.actual;
    if (a === null || w.deleted) {
      if (!(a === null && w.deleted)) failed.add(i);
      return;
    }
    for (const c of o.view.untouched) if (c in w.untouched && (a[c] ?? null) !== w.untouched[c]) failed.add(i);
    pools.forEach((p, k) => {
      const mw = w.mappings[k];
      if (!mw) return;
      if (o.view.old && p.oldColumns.length && !sameValues(a, mw.old, p.oldColumns)) {
        if (mw.oldExact && !insertedNullDerived(mw, a, p.oldColumns)) failed.add(i);
        else if (mw.new !== undefined) lenient.push({ obs: i, pool: k, direction: 'up' });
      }
      if (o.view.new && p.newColumns.length && mw.new !== undefined && !sameValues(a, mw.new, p.newColumns)) {
        if (mw.newExact) failed.add(i);
        else lenient.push({ obs: i, pool: k, direction: 'down' });
      }
    });
  });
  return { failed, lenient };
}

/**
 * Evaluate the pending lenient comparisons in SQL on the rows seen, in one batch per direction and
 * operation, and add to `failed` each observation whose derived side does not agree.
 */
async function derivedMismatches(
  evaluator: ExpressionEvaluator,
  pools: readonly MappingPool[],
  observations: readonly Observation[],
  { pending, failed }: { pending: readonly Lenient[]; failed: Set<number> },
): Promise<void> {
  for (const direction of ['up', 'down'] as const) {
    for (let k = 0; k < pools.length; k++) {
      const batch = pending.filter((l) => l.direction === direction && l.pool === k);
      if (!batch.length) continue;
      const p = pools[k];
      const exprs =
        direction === 'up'
          ? p.mapping.newColumns.map((c) => ({ sql: c.up ?? c.default ?? 'NULL', castTo: c.type }))
          : p.oldColumns.map((c) => ({ sql: p.mapping.down[c] ?? quoteIdent(c) }));
      const results = await evaluator.evaluate(
        batch.map((l) => observations[l.obs].actual as Row),
        exprs,
      );
      batch.forEach((l, j) => {
        const r = results[j];
        const mw = observations[l.obs].write.mappings[k];
        const cols = direction === 'up' ? p.newColumns : p.oldColumns;
        const want = direction === 'up' ? mw.new : mw.old;
        const got: Record<string, string | null> = {};
        if (r.ok) cols.forEach((c, n) => (got[c] = r.values[n]));
        if (!r.ok || !sameValues(got, want, cols)) failed.add(l.obs);
      });
    }
  }
}

/** The mismatch reported for one failed observation: what its write left and what was seen. */
function mismatchOf(pools: readonly MappingPool[], o: Observation): GenericMismatch {
  const w = o.write;
  const expected: Record<string, string | null> = {};
  if (!w.deleted) {
    for (const c of o.view.untouched) if (c in w.untouched) expected[c] = w.untouched[c];
    pools.forEach((p, k) => {
      const mw = w.mappings[k];
      if (!mw) return;
      if (o.view.old) Object.assign(expected, mw.old);
      if (o.view.new && mw.new) Object.assign(expected, mw.new);
    });
  }
  const actual =
    o.actual === null
      ? null
      : Object.fromEntries(Object.keys(w.deleted ? o.actual : expected).map((c) => [c, o.actual![c] ?? null]));
  return {
    seq: w.seq,
    id: w.key,
    version: w.version,
    op: w.op,
    stage: w.stage,
    seenBy: o.seenBy,
    expected: w.deleted ? {} : expected,
    actual,
  };
}

/**
 * Compare acknowledged writes with what was seen, byte for byte as text. The writer's own side must
 * hold exactly what it sent; the other side what the spec derives from it (up of an old-side write,
 * down of a new-side write), or, where the write left that side as it was, agree with it the other
 * way round (the invariant verify checks), evaluated in SQL on the row seen. Columns no operation
 * touches must hold what the write left in them. A deleted row must stay gone.
 */
export async function compareObservations(
  evaluator: ExpressionEvaluator,
  pools: readonly MappingPool[],
  observations: readonly Observation[],
): Promise<GenericMismatch[]> {
  const { failed, lenient } = directMismatches(pools, observations);
  const pending = lenient.filter((l) => !failed.has(l.obs));
  await derivedMismatches(evaluator, pools, observations, { pending, failed });
  return [...failed].sort((x, y) => x - y).map((i) => mismatchOf(pools, observations[i]));
}

export async function liveColumns(db: Queryable, model: TableModel): Promise<Set<string>> {
  const { rows } = await db.query(
    `SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped`,
    [model.oid],
  );
  return new Set(rows.map((r) => r.attname as string));
}

export interface GenericCheckReport {
  readonly label: string;
  readonly checked: number;
  readonly mismatches: GenericMismatch[];
}

/** What one table check reads and how it names itself. */
export interface TableCheck {
  /** Names the check in the report and in each mismatch ("after backfill"). */
  readonly label: string;
  /** Where to read the rows: the migrator, or at the end the final version's connection (default: admin). */
  readonly reader?: Queryable;
  /** The backfill has run: compare the new side too. */
  readonly newColumnsFilled: boolean;
  /** Columns no mapping touches: compared as written. */
  readonly untouched: readonly string[];
  /** Compare the old side while it exists (default true; false at the end, when the final version no longer reads it). */
  readonly readOld?: boolean;
}

/**
 * Read every row the ledger knows back and compare it with its latest acknowledged write. The old
 * side while it exists, the new side once the backfill has filled it.
 */
export async function checkGenericTable(
  admin: Queryable,
  evaluator: ExpressionEvaluator,
  model: TableModel,
  pools: readonly MappingPool[],
  ledger: RowLedger,
  { label, reader = admin, newColumnsFilled: newFilled, untouched, readOld = true }: TableCheck,
): Promise<GenericCheckReport> {
  const live = await liveColumns(admin, model);
  const old = readOld && pools.every((p) => p.oldColumns.every((c) => live.has(c)));
  const nw = newFilled && pools.every((p) => p.newColumns.every((c) => live.has(c)));
  const cols = [
    ...untouched.filter((c) => live.has(c)),
    ...pools.flatMap((p) => [...(old ? p.oldColumns : []), ...(nw ? p.newColumns : [])]),
  ];
  const pk = model.primaryKey;
  const { rows } = await reader.query(
    `SELECT ${rowArraySql(pk, 'x')} AS k, ${rowArraySql(cols, 'x')} AS v FROM ${model.qualified} AS x`,
  );
  const byKey = new Map<string, Row>(rows.map((r) => [JSON.stringify(r.k), toRow(cols, r.v)]));
  const view: View = { old, new: nw, untouched: untouched.filter((c) => live.has(c)) };
  const observations = ledger
    .latestWrites()
    .map((write) => ({ write, actual: byKey.get(write.key) ?? null, view, seenBy: `table ${label}` }));
  return { label, checked: observations.length, mismatches: await compareObservations(evaluator, pools, observations) };
}
