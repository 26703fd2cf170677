import { quoteIdent } from '../identifiers';
import { PENDING_COLUMN, ResolvedSpec } from '../spec';
import { table } from './plan-names';

export function pkList(resolved: ResolvedSpec, alias?: string): string {
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

