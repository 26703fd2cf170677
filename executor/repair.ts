import { UsageError } from '../phases/errors';
import { quoteIdent } from '../phases/sql/identifiers';
import { FAILED_COLUMN, pkJson, pkList, table } from '../phases/sql/plan';
import { MigrationSpec, PENDING_COLUMN, ResolvedSpec } from '../phases/sql/spec';
import { querySingle } from './connection';
import { checkRepairKeys } from './repair-keys';
import { openSession, recordedSpec } from './session';
import { RepairOptions, RepairResult } from './types';
import { checkConsistency } from './verify';

export const DEFAULT_REPAIR_BATCH = 500;

/**
 * The statement that re-derives one operation of one row from the side its writer wrote (recorded
 * by the trigger when the sync raised): `old` -> the new columns from `up`; `new` -> the old columns
 * from `down`. The same expressions as the backfill's UPDATE, with the same name resolution; it
 * clears the row's failure for that operation, and the flag when none is left. Params: the key.
 */
export function repairSql(resolved: ResolvedSpec, index: number, side: 'old' | 'new'): string | undefined {
  const m = resolved.mappings[index];
  const sets =
    side === 'old'
      ? m.newColumns.filter((c) => c.up !== undefined).map((c) => `${quoteIdent(c.name)} = (${c.up})`)
      : m.oldColumns.filter((c) => m.down[c] !== undefined).map((c) => `${quoteIdent(c)} = (${m.down[c]})`);
  if (!sets.length) return undefined;
  const f = quoteIdent(FAILED_COLUMN);
  const left = `nullif(${f} - '${index}', '{}')`;
  sets.push(`${f} = ${left}`, `${quoteIdent(PENDING_COLUMN)} = CASE WHEN ${left} IS NULL THEN false END`);
  const pk = resolved.table.primaryKey;
  return `UPDATE ${table(resolved)} SET ${sets.join(', ')} WHERE (${pkList(resolved)}) = (${pk.map((c, i) => `$${i + 1}::${c.type}`).join(', ')})`;
}

function keyText(k: string[]): string {
  return k.length === 1 ? k[0] : JSON.stringify(k);
}

function parseKey(resolved: ResolvedSpec, text: string): string[] {
  const n = resolved.table.primaryKey.length;
  if (n === 1) return [text];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== n) throw new UsageError(`--keys: "${text}" is not a key of ${n} columns; write a composite key as a JSON array, e.g. ["1","2"]`);
  return parsed.map(String);
}

/**
 * Repair: rows whose sync raised in the trigger (flagged, `_tandem_pending` NULL) are re-derived from
 * the side their writer wrote, in short transactions of `batchSize` rows, each row under a savepoint
 * so one that still raises is reported (with its error) and the rest go on. The trigger records the
 * side, so repair never guesses: a row that is inconsistent without a flag (written past the
 * trigger) is named, not touched; rewrite the side to keep (`UPDATE t SET col = col ...`), which the
 * sync trigger then derives from.
 */
export async function repair(spec: MigrationSpec, options: RepairOptions): Promise<RepairResult> {
  const session = await openSession(spec, options, true);
  try {
    const resolved = recordedSpec(session, spec, 'repair');
    const { client } = session;
    const batchSize = options.batchSize ?? DEFAULT_REPAIR_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError('--batch-size must be a whole number of at least 1');
    const t = table(resolved);
    const wanted = options.keys?.map((k) => parseKey(resolved, k));
    if (wanted) await checkRepairKeys(client, resolved, wanted);
    let repaired = 0;
    const stillFailing: { key: string; side: string; error: string }[] = [];
    let last: string[] | undefined;
    for (;;) {
      const params: unknown[] = [];
      const conds = [`${quoteIdent(PENDING_COLUMN)} IS NULL`];
      if (last) {
        conds.push(`(${pkList(resolved)}) > (${resolved.table.primaryKey.map((c, i) => `$${i + 1}::${c.type}`).join(', ')})`);
        params.push(...last);
      }
      if (wanted) {
        params.push(JSON.stringify(wanted));
        conds.push(`$${params.length}::jsonb @> jsonb_build_array(${pkJson(resolved)}::jsonb)`);
      }
      const rows = (
        await querySingle(client, `SELECT ${pkJson(resolved)} AS key, ${quoteIdent(FAILED_COLUMN)} AS failed FROM ${t} WHERE ${conds.join(' AND ')} ORDER BY ${pkList(resolved)} LIMIT ${batchSize}`, params)
      ).rows as { key: string[]; failed: Record<string, { side: 'old' | 'new'; error: string }> | null }[];
      if (!rows.length) break;
      await client.query(`BEGIN; SET LOCAL tandem.backfill = 'on'`);
      try {
        for (const row of rows) {
          let ok = true;
          for (const [index, f] of Object.entries(row.failed ?? {})) {
            const sql = repairSql(resolved, Number(index), f.side);
            if (!sql) continue;
            await client.query('SAVEPOINT _tandem_repair');
            try {
              await querySingle(client, sql, row.key);
              await client.query('RELEASE SAVEPOINT _tandem_repair');
            } catch (err: any) {
              await client.query('ROLLBACK TO SAVEPOINT _tandem_repair');
              ok = false;
              stillFailing.push({ key: keyText(row.key), side: f.side, error: err?.message ?? String(err) });
            }
          }
          if (ok) repaired++;
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      last = rows[rows.length - 1].key;
    }
    const report = await checkConsistency(client, resolved);
    const unflagged = report.operations.filter((o) => o.inconsistentRows > 0);
    const parts = [`repaired ${repaired} flagged rows of ${session.label}`];
    if (stillFailing.length) {
      parts.push(
        `${stillFailing.length} still raise (e.g. key ${stillFailing[0].key}: ${stillFailing[0].error}); write the ${stillFailing[0].side} side of those rows with values the expressions accept, or roll back`,
      );
    }
    if (report.pendingRows > 0 && !stillFailing.length) {
      // Rows the backfill has not reached are not "written past the trigger": their new side is simply empty.
      parts.push(`${report.pendingRows} rows are not backfilled yet (e.g. keys ${report.pendingSampleKeys.slice(0, 5).join(', ')}): run tandem backfill SPEC, then tandem verify SPEC; repair re-derives only rows whose sync raised in the trigger`);
    } else if (unflagged.length && !stillFailing.length) {
      parts.push(
        `inconsistent without a recorded failure (written past the sync trigger): ${unflagged.map((o) => `${o.inconsistentRows} rows for ${o.operation} (e.g. keys ${o.sampleKeys.slice(0, 5).join(', ')})`).join('; ')}; rewrite the side to keep, e.g. UPDATE ... SET column = column WHERE ..., and the trigger derives the other`,
      );
    }
    return {
      migration: spec.name,
      table: session.label,
      step: session.step,
      changed: repaired > 0,
      message: parts.join('; '),
      lockRetries: 0,
      repaired,
      stillFailing,
    };
  } finally {
    await session.close();
  }
}
