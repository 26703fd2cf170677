import { Client } from 'pg';
import { quoteLiteral } from '../phases/sql/identifiers';
import { pkJson, pkList, table } from '../phases/sql/plan';
import { ResolvedSpec } from '../phases/sql/spec';
import { querySingle } from './connection';
import { isConnectionLoss } from './errors';
import { errorCode, errorMessage } from '../phases/error-fields';

/** Keys per range when the one-scan aggregate raised and the table is scanned range by range. */
const RANGE_KEYS = 1000;
const SAMPLE = 10;
const QUERY_CANCELED = '57014';

/** Rows on which an expression raised: counted, up to 10 keys, the first error. */
export interface RaisingRows {
  readonly rows: number;
  readonly sampleKeys: string[][];
  readonly error?: string;
  /** Past 1000 rows found one by one, ranges that raise were counted whole: `rows` is an upper bound. */
  readonly bounded?: boolean;
}

export interface RowScan {
  /** The aggregate's one row: counts summed, `*_sample` key arrays in key order, over the rows that did not raise. */
  readonly row: Record<string, unknown>;
  readonly raising: RaisingRows;
}

/**
 * SQLSTATE classes an expression raises on some row's values: data exceptions (a failed cast, a
 * division by zero), integrity, a RAISE in PL/pgSQL, routine exceptions, a limit exceeded. Not a
 * missing column or function (the same for every row), nor the connection.
 */
const ROW_ERROR_CLASSES = ['22', '23', 'P0', '2F', '38', '39', '54'];

function isRowError(err: unknown): boolean {
  const code = errorCode(err);
  return (
    typeof code === 'string' &&
    ROW_ERROR_CLASSES.includes(code.slice(0, 2)) &&
    code !== QUERY_CANCELED &&
    !isConnectionLoss(err)
  );
}

/** Rows found one by one at most; past this, a range that raises counts whole (an upper bound, said so). */
const MAX_FOUND = 1000;

function keyRange(resolved: ResolvedSpec, from: string[], to: string[]): string {
  const typed = (k: string[]) =>
    `(${resolved.table.primaryKey.map((c, i) => `${quoteLiteral(k[i])}::${c.type}`).join(', ')})`;
  const pk = `(${pkList(resolved)})`;
  return `${pk} >= ${typed(from)} AND ${pk} <= ${typed(to)}`;
}

function merge(into: Record<string, unknown>, row: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(row)) {
    if (k.includes('sample'))
      into[k] = [...((into[k] as string[] | null) ?? []), ...((v as string[] | null) ?? [])].slice(0, SAMPLE);
    else into[k] = Number(into[k] ?? 0) + Number(v ?? 0);
  }
}

/**
 * Run a one-row aggregate over the table (`build(where)` gives its SQL, restricted to `where` when
 * given) so that no row's values can make it fail: inside the caller's transaction (one snapshot),
 * under a savepoint. When an expression raises on some row, the table is scanned again in key
 * ranges, and a range that raises is halved until the rows that raise are found: they are counted
 * and named, and the aggregate covers every other row. The cost of the fallback is only paid when
 * some row raises. `build(where, false)` must evaluate no expression: it is what a raising row
 * still counts for.
 */
export async function scanRows(
  client: Client,
  resolved: ResolvedSpec,
  build: (where?: string, expressions?: boolean) => string,
): Promise<RowScan> {
  const attempt = async (sql: string): Promise<{ row: Record<string, unknown> } | { error: string }> => {
    await client.query('SAVEPOINT _tandem_scan');
    try {
      const row = (await querySingle(client, sql)).rows[0];
      await client.query('RELEASE SAVEPOINT _tandem_scan');
      return { row };
    } catch (err) {
      if (!isRowError(err)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT _tandem_scan');
      await client.query('RELEASE SAVEPOINT _tandem_scan');
      return { error: errorMessage(err) };
    }
  };
  const whole = await attempt(build());
  if ('row' in whole) return { row: whole.row, raising: { rows: 0, sampleKeys: [] } };
  const row: Record<string, unknown> = {};
  const raising = { rows: 0, sampleKeys: [] as string[][], error: whole.error, bounded: false };
  const scanKeys = async (keys: string[][]): Promise<void> => {
    const range = keyRange(resolved, keys[0], keys[keys.length - 1]);
    const r = await attempt(build(range));
    if ('row' in r) return merge(row, r.row);
    if (keys.length === 1 || raising.rows >= MAX_FOUND) {
      // What evaluates no expression (pending, flagged) still counts for this row.
      merge(row, (await querySingle(client, build(range, false))).rows[0]);
      raising.rows += keys.length;
      raising.bounded ||= keys.length > 1;
      if (raising.sampleKeys.length < SAMPLE) raising.sampleKeys.push(keys[0]);
      return;
    }
    const half = Math.ceil(keys.length / 2);
    await scanKeys(keys.slice(0, half));
    await scanKeys(keys.slice(half));
  };
  const t = table(resolved);
  let last: string[] | undefined;
  for (;;) {
    const after = last
      ? ` WHERE (${pkList(resolved)}) > (${resolved.table.primaryKey.map((c, i) => `${quoteLiteral(last![i])}::${c.type}`).join(', ')})`
      : '';
    const keys = (
      await querySingle(
        client,
        `SELECT ${pkJson(resolved)} AS key FROM ${t}${after} ORDER BY ${pkList(resolved)} LIMIT ${RANGE_KEYS}`,
      )
    ).rows.map((r: { key: string[] }) => r.key);
    if (!keys.length) break;
    await scanKeys(keys);
    last = keys[keys.length - 1];
  }
  return { row, raising };
}

/** A key as the reports print it: the value alone for a one-column key, else a JSON array. */
export function keyText(key: string[]): string {
  return key.length === 1 ? key[0] : JSON.stringify(key);
}
