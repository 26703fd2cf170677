import { UsageError } from '../phases/errors';
import { backoffMs, DEFAULT_DDL_DEADLINE_MS, DEFAULT_LOCK_TIMEOUT_MS, sleep } from './ddl-transaction';
import { LockTimeoutError } from './errors';
import { keyText } from './row-scan';
import { quoteIdent } from '../phases/sql/identifiers';
import { FAILED_COLUMN, pkJson, pkList, table } from '../phases/sql/plan';
import { MigrationSpec, PENDING_COLUMN, ResolvedSpec } from '../phases/sql/spec';
import { querySingle } from './connection';
import { checkRepairKeys } from './repair-keys';
import { openSession, recordedSpec, Session } from './session';
import { RepairOptions, RepairResult } from './types';
import { checkConsistency } from './verify';
import { errorCode, errorMessage } from '../phases/error-fields';

/** Rows per repair transaction: each holds its rows' locks only while it updates them. */
export const DEFAULT_REPAIR_BATCH = 100;

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

function parseKey(resolved: ResolvedSpec, text: string): string[] {
  const n = resolved.table.primaryKey.length;
  if (n === 1) return [text];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== n)
    throw new UsageError(
      `--keys: "${text}" is not a key of ${n} columns; write a composite key as a JSON array, e.g. ["1","2"]`,
    );
  return parsed.map(String);
}

/** What the trigger records for one operation of a flagged row, once checked: the app role can write the column. */
interface FailureEntry {
  readonly index: number;
  readonly side: 'old' | 'new';
}

/**
 * The failure record read back from a row, checked entry by entry: an object whose keys are
 * operation indexes of this spec and whose values name the side `old` or `new`. Anything else is
 * a reason, and the row is not touched.
 */
export function failureEntries(resolved: ResolvedSpec, failed: unknown): FailureEntry[] | string {
  if (failed === null || failed === undefined)
    return 'it is flagged (_tandem_pending NULL) but holds no failure record';
  if (typeof failed !== 'object' || Array.isArray(failed))
    return `its failure record ${JSON.stringify(failed).slice(0, 60)} is not an object`;
  const out: FailureEntry[] = [];
  for (const [k, v] of Object.entries(failed as Record<string, unknown>)) {
    if (!/^(0|[1-9]\d{0,3})$/.test(k) || Number(k) >= resolved.mappings.length)
      return `its failure record names operation ${JSON.stringify(k).slice(0, 30)}, which this spec does not have (${resolved.mappings.length} operations)`;
    const side = (v as { side?: unknown } | null)?.side;
    if (side !== 'old' && side !== 'new')
      return `its failure record gives operation ${k} the side ${JSON.stringify(side ?? null).slice(0, 30)}, neither old nor new`;
    // The trigger records a side only when deriving from it raised: a side with nothing to derive was not written by it.
    if (!repairSql(resolved, Number(k), side))
      return `its failure record gives operation ${k} the side ${side}, from which ${resolved.mappings[Number(k)].label} derives nothing`;
    out.push({ index: Number(k), side });
  }
  if (!out.length) return 'its failure record is empty';
  return out;
}

const RETRYABLE = new Set(['55P03', '40P01']);

/** `(pk) IN ((...), ...)` for these keys, with their params from `$1`. */
function keysIn(resolved: ResolvedSpec, keys: string[][]): { sql: string; params: string[] } {
  const pk = resolved.table.primaryKey;
  const tuples = keys.map((_, k) => `(${pk.map((c, i) => `$${k * pk.length + i + 1}::${c.type}`).join(', ')})`);
  return { sql: `(${pkList(resolved)}) IN (${tuples.join(', ')})`, params: keys.flat() };
}

interface StillFailing {
  key: string;
  side: string;
  error: string;
}

/**
 * Repair: rows whose sync raised in the trigger (flagged, `_tandem_pending` NULL) are re-derived from
 * the side their writer wrote, with the backfill's discipline: short transactions of `batchSize`
 * rows under lock_timeout, whose rows are locked with FOR UPDATE SKIP LOCKED, so repair never waits
 * on a row lock while holding others (no app transaction waits behind it for long or becomes a
 * deadlock victim). Rows another transaction holds are revisited with backoff until the DDL
 * deadline. Each row runs under a savepoint, so one that still raises is reported (with its error)
 * and the rest go on. The failure record is read back from the row and checked (the app role can
 * write it): a row whose record names no operation of the spec, or no side, is named, not touched.
 * The trigger records the side, so repair never guesses: a row that is inconsistent without a flag
 * (written past the trigger) is named, not touched; rewrite the side to keep (`UPDATE t SET col =
 * col ...`), which the sync trigger then derives from.
 */
export async function repair(spec: MigrationSpec, options: RepairOptions): Promise<RepairResult> {
  const session = await openSession(spec, options, { lock: true });
  try {
    const resolved = recordedSpec(session, spec, 'repair');
    const batchSize = options.batchSize ?? DEFAULT_REPAIR_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new UsageError('--batch-size must be a whole number of at least 1');
    const wanted = options.keys?.map((k) => parseKey(resolved, k));
    if (wanted) await checkRepairKeys(session.client, resolved, wanted);
    const lockTimeout = Math.max(1, Math.floor(options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS));
    await session.client.query(`SET lock_timeout = ${lockTimeout}`);
    const run = new RepairRun(session, resolved, options, batchSize);
    const held = await run.sweep(wanted);
    await run.revisit(held);
    return await run.finish(spec);
  } finally {
    await session.close();
  }
}

/** One repair run: what it repaired, what still fails, and the batches, retries and revisits that got there. */
class RepairRun {
  repaired = 0;
  readonly stillFailing: StillFailing[] = [];
  private readonly t: string;
  private readonly failed = quoteIdent(FAILED_COLUMN);
  private readonly flagged = `${quoteIdent(PENDING_COLUMN)} IS NULL`;
  private readonly deadline: number;

  constructor(
    private readonly session: Session,
    private readonly resolved: ResolvedSpec,
    private readonly options: RepairOptions,
    private readonly batchSize: number,
  ) {
    this.t = table(resolved);
    this.deadline = options.ddlDeadlineMs ?? DEFAULT_DDL_DEADLINE_MS;
  }

  private get client(): Session['client'] {
    return this.session.client;
  }

  /** Every flagged row (of the wanted keys), batch by batch in key order; returns the keys other transactions held. */
  async sweep(wanted: string[][] | undefined): Promise<string[][]> {
    const held: string[][] = [];
    let last: string[] | undefined;
    for (;;) {
      const keys = await this.flaggedKeysAfter(last, wanted);
      if (!keys.length) break;
      held.push(...(await this.runBatch(keys)));
      last = keys[keys.length - 1];
    }
    return held;
  }

  /** The next batch of flagged keys after `last`. */
  private async flaggedKeysAfter(last: string[] | undefined, wanted: string[][] | undefined): Promise<string[][]> {
    const { resolved } = this;
    const params: unknown[] = [];
    const conds = [this.flagged];
    if (last) {
      conds.push(
        `(${pkList(resolved)}) > (${resolved.table.primaryKey.map((c, i) => `$${i + 1}::${c.type}`).join(', ')})`,
      );
      params.push(...last);
    }
    if (wanted) {
      params.push(JSON.stringify(wanted));
      conds.push(`$${params.length}::jsonb @> jsonb_build_array(${pkJson(resolved)}::jsonb)`);
    }
    const sql = `SELECT ${pkJson(resolved)} AS key FROM ${this.t} WHERE ${conds.join(' AND ')} ORDER BY ${pkList(resolved)} LIMIT ${this.batchSize}`;
    return (await querySingle(this.client, sql, params)).rows.map((r: { key: string[] }) => r.key);
  }

  /** Rows other transactions held: revisited with backoff; most are synced by their holder's own write. */
  async revisit(held: string[][]): Promise<void> {
    const since = Date.now();
    for (let visit = 0; held.length; visit++) {
      if (Date.now() - since > this.deadline) break;
      if (visit % 10 === 0)
        this.options.onProgress?.({
          kind: 'lock_wait',
          message: `repair ${this.session.label}: ${held.length} row${held.length === 1 ? '' : 's'} held by other transactions (key ${keyText(held[0])}); revisiting`,
        });
      await sleep(backoffMs(visit, 20, 1000));
      const next: string[][] = [];
      for (let i = 0; i < held.length; i += this.batchSize)
        next.push(...(await this.runBatch(held.slice(i, i + this.batchSize))));
      held = next;
    }
    for (const k of held)
      this.stillFailing.push({
        key: keyText(k),
        side: 'unknown',
        error: 'not repaired: another transaction held the row until the deadline; run tandem repair again',
      });
  }

  /** One batch, retried on a lock timeout (a table lock, or a unique-index wait) with backoff until the deadline. */
  private async runBatch(keys: string[][]): Promise<string[][]> {
    const since = Date.now();
    for (let attempt = 0; ; attempt++) {
      const before = { repaired: this.repaired, failing: this.stillFailing.length };
      try {
        return await this.repairKeys(keys);
      } catch (err) {
        if (!RETRYABLE.has(String(errorCode(err)))) throw err;
        this.repaired = before.repaired;
        this.stillFailing.length = before.failing;
        if (Date.now() - since > this.deadline)
          throw new LockTimeoutError(this.session.label, attempt + 1, ['row or table locks held while repairing']);
        this.options.onProgress?.({
          kind: 'lock_wait',
          message: `repair ${this.session.label}: waited too long on a lock (key ${keyText(keys[0])}); retrying`,
        });
        await sleep(backoffMs(attempt));
      }
    }
  }

  /** Repair the rows of these keys that no other transaction holds, in one short transaction; returns the keys held. */
  private async repairKeys(keys: string[][]): Promise<string[][]> {
    const { client, resolved } = this;
    const inKeys = keysIn(resolved, keys);
    await client.query(`BEGIN; SET LOCAL tandem.backfill = 'on'`);
    let locked: { key: string[]; failed: unknown }[];
    try {
      locked = (
        await querySingle(
          client,
          `SELECT ${pkJson(resolved)} AS key, ${this.failed} AS failed FROM ${this.t} WHERE ${inKeys.sql} AND ${this.flagged} ORDER BY ${pkList(resolved)} FOR UPDATE SKIP LOCKED`,
          inKeys.params,
        )
      ).rows;
      for (const row of locked) await this.repairRow(row);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    const done = new Set(locked.map((r) => JSON.stringify(r.key)));
    const rest = keys.filter((k) => !done.has(JSON.stringify(k)));
    if (!rest.length) return [];
    // Not locked: held by another transaction, or no longer flagged (its writer's write synced it). A plain read waits on nothing.
    const restIn = keysIn(resolved, rest);
    return (
      await querySingle(
        client,
        `SELECT ${pkJson(resolved)} AS key FROM ${this.t} WHERE ${restIn.sql} AND ${this.flagged}`,
        restIn.params,
      )
    ).rows.map((r: { key: string[] }) => r.key);
  }

  /** One locked row: each operation its failure record names, re-derived under a savepoint. */
  private async repairRow(row: { key: string[]; failed: unknown }): Promise<void> {
    const { client } = this;
    const entries = failureEntries(this.resolved, row.failed);
    if (typeof entries === 'string') {
      this.stillFailing.push({
        key: keyText(row.key),
        side: 'unknown',
        error: `not repaired: ${entries}; rewrite the side to keep and reset the record in one statement (UPDATE ... SET column = column, ${FAILED_COLUMN} = NULL, ${PENDING_COLUMN} = false WHERE ...): the sync trigger derives the other side, and flags the row again if it raises`,
      });
      return;
    }
    let ok = true;
    for (const f of entries) {
      const sql = repairSql(this.resolved, f.index, f.side);
      if (!sql) continue;
      await client.query('SAVEPOINT _tandem_repair');
      try {
        await querySingle(client, sql, row.key);
        await client.query('RELEASE SAVEPOINT _tandem_repair');
      } catch (err) {
        if (RETRYABLE.has(String(errorCode(err)))) throw err;
        await client.query('ROLLBACK TO SAVEPOINT _tandem_repair');
        ok = false;
        this.stillFailing.push({ key: keyText(row.key), side: f.side, error: errorMessage(err) });
      }
    }
    if (ok) this.repaired++;
  }

  /** Check the table again and say what was repaired, what still raises, and what repair cannot do. */
  async finish(spec: MigrationSpec): Promise<RepairResult> {
    const { repaired, stillFailing, session } = this;
    const report = await checkConsistency(this.client, this.resolved);
    const unflagged = report.operations.filter((o) => o.inconsistentRows > 0);
    const parts = [`repaired ${repaired} flagged rows of ${session.label}`];
    const raising = stillFailing.filter((f) => f.side !== 'unknown');
    const untouched = stillFailing.filter((f) => f.side === 'unknown');
    if (raising.length) {
      parts.push(
        `${raising.length} still raise (e.g. key ${raising[0].key}: ${raising[0].error}); write the ${raising[0].side} side of those rows with values the expressions accept, or roll back`,
      );
    }
    if (untouched.length)
      parts.push(
        `${untouched.length} not repaired (e.g. key ${untouched[0].key}: ${untouched[0].error.replace(/^not repaired: /, '')})`,
      );
    if (report.pendingRows > 0 && !stillFailing.length) {
      // Rows the backfill has not reached are not "written past the trigger": their new side is simply empty.
      parts.push(
        `${report.pendingRows} rows are not backfilled yet (e.g. keys ${report.pendingSampleKeys.slice(0, 5).join(', ')}): run tandem backfill SPEC, then tandem verify SPEC; repair re-derives only rows whose sync raised in the trigger`,
      );
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
  }
}
