import { quoteIdent } from '../identifiers';
import { ColumnMapping } from '../operations';
import { PENDING_COLUMN, ResolvedSpec } from '../spec';
import { pkJson, pkList } from './backfill-sql';
import { table } from './plan-names';
import { FAILED_COLUMN } from './sync-function';

/**
 * Per operation, the row predicate verify checks: new = up(old) OR old = down(new), compared as
 * text after casting to the column's type (as the trigger assigns), so types without `=` work.
 */
function sides(resolved: ResolvedSpec, m: ColumnMapping): { upHolds: string[]; downHolds: string[] } {
  const q = quoteIdent;
  const same = (column: string, type: string, expr: string) => `${q(column)}::text IS NOT DISTINCT FROM ((${expr})::${type})::text`;
  const oldType = (name: string) => resolved.table.columns.find((c) => c.name === name)?.type ?? 'text';
  const upHolds = m.newColumns.filter((c) => c.up !== undefined && m.kind !== 'add_column').map((c) => same(c.name, c.type, c.up!));
  const downHolds = m.oldColumns.filter((c) => m.down[c] !== undefined && m.newColumns.length > 0).map((c) => same(c, oldType(c), m.down[c]));
  return { upHolds, downHolds };
}

/**
 * Rows an old version would read through a lossy `down`: consistent only as old = down(new), not as
 * new = up(old). Since old = down(new), new <> up(old) is up(down(new)) <> new: what the new side
 * wrote does not survive a walk back (rollback drops the new columns). 'false' when the operation
 * has no two sides to compare.
 */
export function lossyPredicate(resolved: ResolvedSpec, m: ColumnMapping): string {
  const { upHolds, downHolds } = sides(resolved, m);
  if (!upHolds.length || !downHolds.length) return 'false';
  return `CASE WHEN ${quoteIdent(PENDING_COLUMN)} IS NOT FALSE THEN false WHEN ${downHolds.join(' AND ')} THEN NOT (${upHolds.join(' AND ')}) ELSE false END`;
}

export function consistencyPredicate(resolved: ResolvedSpec, m: ColumnMapping): string {
  const q = quoteIdent;
  const { upHolds, downHolds } = sides(resolved, m);
  // CASE, not OR: evaluated in this order, so an `up` that raises on a value `down` produced is not reached.
  const sides_ = [downHolds, upHolds].filter((x) => x.length > 0).map((x) => x.join(' AND '));
  const consistent = sides_.length === 2 ? `CASE WHEN ${sides_[0]} THEN true ELSE ${sides_[1]} END` : sides_.length ? sides_[0] : 'true';
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
    // A row whose sync failed is inconsistent without evaluating anything (its expressions raise).
    const bad = `CASE WHEN ${quoteIdent(FAILED_COLUMN)} ? '${i}' THEN true ELSE NOT (${consistencyPredicate(resolved, m)}) END`;
    cols.push(`count(*) FILTER (WHERE ${bad})::bigint AS bad_${i}`);
    cols.push(`(array_agg(${key} ORDER BY ${pkList(resolved)}) FILTER (WHERE ${bad}))[1:10] AS bad_sample_${i}`);
    const lossy = `(${lossyPredicate(resolved, m)})`;
    cols.push(`count(*) FILTER (WHERE ${lossy})::bigint AS lossy_${i}`);
    cols.push(`(array_agg(${key} ORDER BY ${pkList(resolved)}) FILTER (WHERE ${lossy}))[1:10] AS lossy_sample_${i}`);
  });
  // Rows whose sync raised (pending NULL): the write went through, the other side was not derived.
  const failed = `${quoteIdent(PENDING_COLUMN)} IS NULL`;
  cols.push(`count(*) FILTER (WHERE ${failed})::bigint AS failed`);
  cols.push(`(array_agg(${key} ORDER BY ${pkList(resolved)}) FILTER (WHERE ${failed}))[1:10] AS failed_sample`);
  return `SELECT ${cols.join(',\n       ')}\nFROM ${t}`;
}

