import { CustomerColumns, Queryable } from '../app/customer-store';
import { quoteIdent } from '../phases/sql/identifiers';
import { DemoShape } from './demo-shape';
import { AppVersion } from '../phases/deploy/stages';
import type { Comparison as TrafficComparison } from './traffic';
import { WriteLedger } from './write-ledger';

/** One acknowledged write compared with what a reader saw (null: the row is gone). */
export type Comparison = Omit<TrafficComparison, 'reader'> & { readonly reader?: AppVersion };

export interface Mismatch {
  readonly seq: number;
  readonly id: string;
  readonly version: string;
  readonly stage: string;
  /** Where it was seen, e.g. `read by v2` or `table after cleanup`. */
  readonly seenBy: string;
  readonly expected: CustomerColumns;
  readonly actual: CustomerColumns | null;
}

export interface CheckReport {
  readonly label: string;
  readonly checked: number;
  readonly mismatches: Mismatch[];
}

/** What the spec's expressions say about one comparison, evaluated in PostgreSQL. */
interface Evaluated {
  /** The columns as the write leaves them: v1 keeps full_name and gets up(full_name) in the new ones; v2 keeps all three; v3 keeps its new columns and gets down() in full_name. */
  readonly expected: CustomerColumns;
  /** up() of the full_name the reader saw. */
  readonly upOfActual: { first_name: string | null; last_name: string | null };
  /** down() of the first and last name the reader saw. */
  readonly downOfActual: string | null;
}

async function evaluate(db: Queryable, shape: DemoShape, comparisons: readonly Comparison[]): Promise<Evaluated[]> {
  if (comparisons.length === 0) return [];
  const [first, last] = shape.newColumns;
  const q = quoteIdent;
  const cols = `${q(shape.oldColumn)}, ${q(first.name)}, ${q(last.name)}`;
  // Each expression is evaluated over a row whose columns carry the spec's column names, as in the
  // trigger, and only where the comparison needs it.
  const { rows } = await db.query(
    `WITH w AS (SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $9::boolean[], $10::boolean[])
                  AS w(i, version, ${cols}, check_old, check_new)),
          a AS (SELECT * FROM unnest($1::int[], $6::text[], $7::text[], $8::text[], $2::text[], $9::boolean[], $10::boolean[])
                  AS a(i, ${cols}, version, check_old, check_new)),
          e AS (SELECT i,
                  CASE WHEN version = 'v3' AND check_old THEN (${shape.down})::text ELSE ${q(shape.oldColumn)} END AS full_name,
                  CASE WHEN version = 'v1' AND check_new THEN (${first.up})::text ELSE ${q(first.name)} END AS first_name,
                  CASE WHEN version = 'v1' AND check_new THEN (${last.up})::text ELSE ${q(last.name)} END AS last_name
                FROM w),
          u AS (SELECT i,
                  CASE WHEN version = 'v3' AND check_old THEN (${first.up})::text END AS up_first,
                  CASE WHEN version = 'v3' AND check_old THEN (${last.up})::text END AS up_last,
                  CASE WHEN version = 'v1' AND check_new THEN (${shape.down})::text END AS down_full
                FROM a)
     SELECT e.*, u.up_first, u.up_last, u.down_full FROM e JOIN u USING (i) ORDER BY i`,
    [
      comparisons.map((_, i) => i),
      comparisons.map((c) => c.write.version),
      comparisons.map((c) => c.write.columns.full_name ?? null),
      comparisons.map((c) => c.write.columns.first_name ?? null),
      comparisons.map((c) => c.write.columns.last_name ?? null),
      comparisons.map((c) => c.actual?.full_name ?? null),
      comparisons.map((c) => c.actual?.first_name ?? null),
      comparisons.map((c) => c.actual?.last_name ?? null),
      comparisons.map((c) => c.old),
      comparisons.map((c) => c.new),
    ],
  );
  return rows.map((r) => ({
    expected: { full_name: r.full_name, first_name: r.first_name, last_name: r.last_name },
    upOfActual: { first_name: r.up_first, last_name: r.up_last },
    downOfActual: r.down_full,
  }));
}

/**
 * Did the reader see the write? Exact string equality, NULL equals only NULL. The writer's own
 * side must hold exactly what it wrote (a v1 full_name byte for byte). The other side must be
 * consistent with it by the spec's invariant: derived from it (new = up(old), old = down(new)),
 * or, where the write left that side as it was, already agreeing with it the other way round.
 */
export function sawWrite(c: Comparison, ev: Evaluated): boolean {
  const a = c.actual;
  if (a === null) return false;
  const w = c.write.columns;
  const e = ev.expected;
  const sameNew = (
    x: { first_name?: string | null; last_name?: string | null },
    y: { first_name?: string | null; last_name?: string | null },
  ) => x.first_name === y.first_name && x.last_name === y.last_name;
  if (c.old) {
    const ok =
      c.write.version === 'v3' ? a.full_name === e.full_name || sameNew(ev.upOfActual, w) : a.full_name === w.full_name;
    if (!ok) return false;
  }
  if (c.new) {
    const ok = c.write.version === 'v1' ? sameNew(a, e) || ev.downOfActual === w.full_name : sameNew(a, w);
    if (!ok) return false;
  }
  return true;
}

/** The comparisons whose reader did not see the write. */
export async function compareWrites(
  db: Queryable,
  shape: DemoShape,
  comparisons: readonly Comparison[],
  seenBy: (c: Comparison) => string,
): Promise<Mismatch[]> {
  const evaluated = await evaluate(db, shape, comparisons);
  const mismatches: Mismatch[] = [];
  comparisons.forEach((c, i) => {
    if (sawWrite(c, evaluated[i])) return;
    const e = evaluated[i].expected;
    const shown: CustomerColumns = {
      ...(c.old ? { full_name: e.full_name } : {}),
      ...(c.new ? { first_name: e.first_name, last_name: e.last_name } : {}),
    };
    mismatches.push({
      seq: c.write.seq,
      id: c.write.id,
      version: c.write.version,
      stage: c.write.stage,
      seenBy: seenBy(c),
      expected: shown,
      actual: c.actual,
    });
  });
  return mismatches;
}

async function liveColumns(db: Queryable, table: string): Promise<Set<string>> {
  const { rows } = await db.query(
    `SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`,
    [quoteIdent(table)],
  );
  return new Set(rows.map((r) => r.attname as string));
}

/**
 * Read every customer the ledger knows back from the table and compare it with its latest
 * acknowledged write. full_name is checked while it exists; the new columns once the backfill
 * has filled them (`newColumnsFilled`).
 */
export async function checkTable(
  db: Queryable,
  shape: DemoShape,
  ledger: WriteLedger,
  label: string,
  newColumnsFilled: boolean,
): Promise<CheckReport> {
  const columns = await liveColumns(db, shape.table);
  const checkOld = columns.has(shape.oldColumn);
  const checkNew = newColumnsFilled && shape.newColumns.every((c) => columns.has(c.name));
  const read: string[] = [];
  if (checkOld) read.push(shape.oldColumn);
  if (checkNew) read.push(...shape.newColumns.map((c) => c.name));
  const writes = ledger.latestWrites();
  const { rows } = await db.query(
    `SELECT id::text AS id${read.map((c) => ', ' + quoteIdent(c)).join('')} FROM ${quoteIdent(shape.table)} WHERE id = ANY($1::bigint[])`,
    [writes.map((w) => w.id)],
  );
  const byId = new Map<string, CustomerColumns>(rows.map((r) => [r.id as string, r as CustomerColumns]));
  const comparisons = writes.map((write) => ({
    write,
    actual: byId.get(write.id) ?? null,
    old: checkOld,
    new: checkNew,
  }));
  const mismatches = await compareWrites(db, shape, comparisons, () => `table ${label}`);
  return { label, checked: comparisons.length, mismatches };
}
