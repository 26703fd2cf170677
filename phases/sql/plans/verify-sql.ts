import { quoteIdent } from '../identifiers';
import { ColumnMapping, hasOldSide } from '../operations';
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
  // COLLATE "C": byte for byte, also on a column with a nondeterministic (case-insensitive) collation.
  const same = (column: string, type: string, expr: string) =>
    `${q(column)}::text COLLATE "C" IS NOT DISTINCT FROM ((${expr})::${type})::text COLLATE "C"`;
  const oldType = (name: string) => resolved.table.columns.find((c) => c.name === name)?.type ?? 'text';
  const upHolds = m.newColumns
    .filter((c) => c.up !== undefined && hasOldSide(m))
    .map((c) => same(c.name, c.type, c.up!));
  const downHolds = m.oldColumns
    .filter((c) => m.down[c] !== undefined && m.newColumns.length > 0)
    .map((c) => same(c, oldType(c), m.down[c]));
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
  const consistent =
    sides_.length === 2 ? `CASE WHEN ${sides_[0]} THEN true ELSE ${sides_[1]} END` : sides_.length ? sides_[0] : 'true';
  const notNull = m.newColumns.filter((c) => c.notNull).map((c) => `${q(c.name)} IS NOT NULL`);
  return notNull.length ? `(${consistent}) AND ${notNull.join(' AND ')}` : consistent;
}

/**
 * One scan: row count, pending rows, and per operation the inconsistent rows with up to 10 sample
 * keys. No alias: expressions read the table exactly as in the backfill's UPDATE. Without
 * `expressions`, only what evaluates no `up`/`down` (rows, pending, flagged), for a row on which
 * they raise.
 */
export function verifySql(resolved: ResolvedSpec, where?: string, expressions = true): string {
  const t = table(resolved);
  const pending = `${quoteIdent(PENDING_COLUMN)} IS TRUE`;
  const key = `${pkJson(resolved)}::text`;
  const cols = [`count(*)::bigint AS rows`, `count(*) FILTER (WHERE ${pending})::bigint AS pending`];
  cols.push(`(array_agg(${key} ORDER BY ${pkList(resolved)}) FILTER (WHERE ${pending}))[1:10] AS pending_sample`);
  if (expressions) {
    resolved.mappings.forEach((m, i) => {
      // A row whose sync failed is inconsistent without evaluating anything (its expressions raise).
      const bad = `CASE WHEN ${quoteIdent(FAILED_COLUMN)} ? '${i}' THEN true ELSE NOT (${consistencyPredicate(resolved, m)}) END`;
      cols.push(`count(*) FILTER (WHERE ${bad})::bigint AS bad_${i}`);
      cols.push(`(array_agg(${key} ORDER BY ${pkList(resolved)}) FILTER (WHERE ${bad}))[1:10] AS bad_sample_${i}`);
      const lossy = `(${lossyPredicate(resolved, m)})`;
      cols.push(`count(*) FILTER (WHERE ${lossy})::bigint AS lossy_${i}`);
      cols.push(`(array_agg(${key} ORDER BY ${pkList(resolved)}) FILTER (WHERE ${lossy}))[1:10] AS lossy_sample_${i}`);
    });
  }
  // Rows whose sync raised (pending NULL): the write went through, the other side was not derived.
  const failed = `${quoteIdent(PENDING_COLUMN)} IS NULL`;
  cols.push(`count(*) FILTER (WHERE ${failed})::bigint AS failed`);
  cols.push(`(array_agg(${key} ORDER BY ${pkList(resolved)}) FILTER (WHERE ${failed}))[1:10] AS failed_sample`);
  return `SELECT ${cols.join(',\n       ')}\nFROM ${t}${where ? `\nWHERE ${where}` : ''}`;
}

/**
 * A row's failure record says only that `up` raised on what an old-side writer wrote: a JSON
 * object whose every entry is the index of an operation of this spec that has an `up`, with side `old`. The app role can
 * write the column, so anything else (garbage, a NULL record on a flagged row) is not trusted.
 */
export function onlyOldSideFailed(resolved: ResolvedSpec): string {
  const f = quoteIdent(FAILED_COLUMN);
  // Only an operation that derives something from the old side (a new column with `up`) can have raised there.
  const fromOld = resolved.mappings.flatMap((m, i) => (m.newColumns.some((c) => c.up !== undefined) ? [i] : []));
  const indexOk = fromOld.length ? `e.key::int IN (${fromOld.join(', ')})` : 'false';
  const entryOk = `CASE WHEN e.key ~ '^(0|[1-9][0-9]{0,3})$' THEN ${indexOk} ELSE false END AND CASE WHEN jsonb_typeof(e.value) = 'object' THEN (e.value->>'side') IS NOT DISTINCT FROM 'old' ELSE false END`;
  return `CASE WHEN jsonb_typeof(${f}) = 'object' AND ${f} <> '{}'::jsonb THEN NOT EXISTS (SELECT 1 FROM jsonb_each(${f}) e WHERE NOT (${entryOk})) ELSE false END`;
}

/**
 * An add_column's column holds something other than what no new version wrote: NULL, or its
 * constant default, as the spec gives it and as the catalog holds it (PostgreSQL folds a default
 * such as 'now'::timestamptz into the value it had when the column was added, which is what every
 * existing row and every old version's insert holds, not what the spec's text gives today).
 */
function notDefault(
  column: string,
  type: string,
  specDefault: string | undefined,
  catalogDefault: string | undefined,
): string {
  // Byte for byte (COLLATE "C"): a carried nondeterministic collation must not make a change invisible.
  const value = `${quoteIdent(column)}::text COLLATE "C"`;
  if (specDefault === undefined) return `${quoteIdent(column)}::text IS NOT NULL`;
  const differs = [`${value} IS DISTINCT FROM ((${specDefault})::${type})::text COLLATE "C"`];
  if (catalogDefault !== undefined)
    differs.push(`${value} IS DISTINCT FROM ((${catalogDefault})::${type})::text COLLATE "C"`);
  return differs.join(' AND ');
}

/**
 * What a rollback would not give back, in one scan (rollback drops the new columns, and the old
 * versions read the old ones): rows flagged by the trigger's guard other than for an old-side
 * write (`down` raised, so the old columns do not hold the new version's write; or a record that
 * cannot be read), and per operation the synced rows whose new side is not up(old): a lossy
 * `down`, or a write past the sync trigger; for an add_column without `up`, the rows whose column
 * holds anything but NULL or its constant default (a new version wrote it). An add_column with an
 * `up` is not judged: its `up` may be volatile (now(), nextval), so up(old) need not give back
 * even what the backfill wrote. Pending rows were never written by a new version (any
 * write of a pending row goes through the trigger) and are not evaluated.
 */
export function rollbackLossSql(
  resolved: ResolvedSpec,
  where?: string,
  expressions = true,
  catalogDefaults: Readonly<Record<string, string>> = {},
): string {
  const t = table(resolved);
  const p = quoteIdent(PENDING_COLUMN);
  const f = quoteIdent(FAILED_COLUMN);
  const key = `${pkJson(resolved)}::text`;
  const order = pkList(resolved);
  const flagged = `(${p} IS NULL OR ${f} IS NOT NULL) AND NOT (${onlyOldSideFailed(resolved)})`;
  const cols = [`count(*)::bigint AS rows`, `count(*) FILTER (WHERE ${flagged})::bigint AS flagged`];
  cols.push(`(array_agg(${key} ORDER BY ${order}) FILTER (WHERE ${flagged}))[1:10] AS flagged_sample`);
  if (expressions)
    resolved.mappings.forEach((m, i) => {
      const { upHolds } = sides(resolved, m);
      // No old side (add_column) and no `up`: its column holds NULL or its constant default unless a new version wrote it.
      const written = !hasOldSide(m)
        ? m.newColumns
            .filter((c) => c.up === undefined)
            .map((c) => notDefault(c.name, c.type, c.default, catalogDefaults[c.name]))
        : [];
      // What a new version wrote into an add_column's column is judged whatever the row's bookkeeping
      // says (nothing is evaluated, and the app role can write those columns); up(old) only on synced rows.
      const synced = upHolds.length
        ? `CASE WHEN ${p} IS NOT FALSE OR ${f} IS NOT NULL THEN false ELSE NOT (${upHolds.join(' AND ')}) END`
        : 'false';
      const lost = written.length ? `(${written.join(' OR ')}) OR ${synced}` : synced;
      cols.push(`count(*) FILTER (WHERE ${lost})::bigint AS lost_${i}`);
      cols.push(`(array_agg(${key} ORDER BY ${order}) FILTER (WHERE ${lost}))[1:10] AS lost_sample_${i}`);
    });
  return `SELECT ${cols.join(',\n       ')}\nFROM ${t}${where ? `\nWHERE ${where}` : ''}`;
}
