import { Client } from 'pg';
import { quoteQualified } from '../phases/sql/identifiers';
import { createdTables, rollbackLossSql } from '../phases/sql/plan';
import { ResolvedSpec } from '../phases/sql/spec';
import { hasOldSide } from '../phases/sql/operations';
import { keyText, scanRows } from './row-scan';
import { syncsColumns } from '../phases/sql/carrier';

/** One reason a rollback would not give back what the new versions wrote, with the keys (or table) it concerns. */
export interface RollbackLoss {
  readonly reason: string;
  readonly rows: number;
  readonly sampleKeys: string[];
}

const parse = (sample: unknown): string[] =>
  ((sample as string[] | null) ?? []).map((s) => keyText(JSON.parse(s) as string[]));

/**
 * The constant defaults the catalog holds for the table's columns, as SQL (pg_get_expr): a
 * constant default is folded when its column is added ('now'::timestamptz becomes that moment's
 * value). Only a plain constant (nothing evaluated per row, nothing a read-only scan refuses).
 */
async function catalogDefaults(client: Client, resolved: ResolvedSpec): Promise<Record<string, string>> {
  const r = await client.query<{ name: string; expr: string }>(
    `SELECT a.attname AS name, pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS expr
       FROM pg_catalog.pg_attrdef d JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
      WHERE d.adrelid = $1::oid AND NOT a.attisdropped AND d.adbin::text LIKE '{CONST %'`,
    [resolved.table.oid],
  );
  return Object.fromEntries(r.rows.map((x) => [x.name, x.expr]));
}

/**
 * Everything a rollback would drop that a new version wrote, in one snapshot: rows whose `down`
 * raised in the trigger (or whose failure record cannot be read: the app role can write it), synced
 * rows whose new side is not up(old) (a lossy `down`, or a write past the trigger), rows that cannot
 * be checked because an expression raises on them, and rows in tables the spec created.
 */
export async function rollbackLosses(client: Client, resolved: ResolvedSpec): Promise<RollbackLoss[]> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const out: RollbackLoss[] = [];
    // An object-only spec synced no row: only the tables it created hold what new versions wrote.
    const defaults = syncsColumns(resolved) ? await catalogDefaults(client, resolved) : {};
    const scan = syncsColumns(resolved)
      ? await scanRows(client, resolved, (where, expressions) =>
          rollbackLossSql(resolved, where, expressions, defaults),
        )
      : null;
    const row = (scan?.row ?? {}) as Record<string, unknown>;
    const flagged = Number(row.flagged ?? 0);
    if (flagged) {
      out.push({
        reason:
          'whose sync raised in the trigger when a new version wrote them (the old columns do not hold that write), or whose failure record cannot be read',
        rows: flagged,
        sampleKeys: parse(row.flagged_sample),
      });
    }
    resolved.mappings.forEach((m, i) => {
      const n = Number(row[`lost_${i}`] ?? 0);
      const why = !hasOldSide(m)
        ? `for ${m.label} whose new column a new version wrote (rollback drops the column)`
        : `for ${m.label} whose new side is not up(old) (a lossy down, or a write past the sync trigger)`;
      if (n) out.push({ reason: why, rows: n, sampleKeys: parse(row[`lost_sample_${i}`]) });
    });
    if (scan?.raising.rows) {
      out.push({
        reason: `${scan.raising.bounded ? '(an upper bound) ' : ''}that cannot be checked because an up or down expression raises on them (${scan.raising.error})`,
        rows: scan.raising.rows,
        sampleKeys: scan.raising.sampleKeys.map(keyText),
      });
    }
    for (const t of createdTables(resolved)) {
      const exists = (await client.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [quoteQualified(t.schema, t.name)]))
        .rows[0].e;
      if (!exists) continue;
      const n = Number(
        (
          await client.query(
            `SELECT count(*) AS n FROM (SELECT 1 FROM ${quoteQualified(t.schema, t.name)} LIMIT 1000) x`,
          )
        ).rows[0].n,
      );
      if (n)
        out.push({
          reason: `in table ${t.schema}.${t.name}${n >= 1000 ? ' (counted up to 1000)' : ''}, which this spec created and rollback drops`,
          rows: n,
          sampleKeys: [],
        });
    }
    return out;
  } finally {
    await client.query('COMMIT').catch(() => undefined);
  }
}

export function describeLosses(losses: readonly RollbackLoss[]): string {
  return losses
    .map(
      (l) =>
        `${l.rows} rows ${l.reason}${l.sampleKeys.length ? ` (e.g. keys ${l.sampleKeys.slice(0, 5).join(', ')})` : ''}`,
    )
    .join('; ');
}
