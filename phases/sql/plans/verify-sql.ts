import { quoteIdent } from '../identifiers';
import { ColumnMapping } from '../operations';
import { PENDING_COLUMN, ResolvedSpec } from '../spec';
import { pkJson, pkList } from './backfill-sql';
import { table } from './plan-names';

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

