import { quoteIdent } from '../identifiers';
import { PENDING_COLUMN, ResolvedSpec } from '../spec';
import { table } from './plan-names';

export function pkList(resolved: ResolvedSpec, alias?: string): string {
  return resolved.table.primaryKey.map((c) => (alias ? `${alias}.` : '') + quoteIdent(c.name)).join(', ');
}

/** A key passed as one JSON array param (text values, as `pkJson` makes them), typed per column. */
function pkFromJson(resolved: ResolvedSpec, param: string): string {
  return resolved.table.primaryKey.map((c, i) => `(${param}::jsonb->>${i})::${c.type}`).join(', ');
}

/** The primary key of a row, as JSON text values, for checkpoints and sample keys. */
export function pkJson(resolved: ResolvedSpec, alias?: string): string {
  return `json_build_array(${resolved.table.primaryKey.map((c) => `${alias ? `${alias}.` : ''}${quoteIdent(c.name)}::text`).join(', ')})`;
}

/** Upper bound of the backfill: rows inserted later are synced by the trigger, so the walk always ends. */
export function backfillBoundSql(resolved: ResolvedSpec): string {
  return `SELECT ${pkJson(resolved, 't')} AS key FROM ${table(resolved)} t ORDER BY ${resolved.table.primaryKey.map((c) => `t.${quoteIdent(c.name)} DESC`).join(', ')} LIMIT 1`;
}

/** The `SET` list of the backfill: the same `up` expressions the trigger uses, and the pending marker cleared. */
function backfillSets(resolved: ResolvedSpec): string {
  const sets = resolved.mappings
    .flatMap((m) => m.newColumns)
    .filter((c) => c.up !== undefined)
    .map((c) => `${quoteIdent(c.name)} = (${c.up})`);
  sets.push(`${quoteIdent(PENDING_COLUMN)} = false`);
  return sets.join(', ');
}

/**
 * Lock the batch's rows and update them, as CTEs `batch` and `updated`. `FOR UPDATE SKIP LOCKED`:
 * the backfill never waits on a row lock (so it is never part of a deadlock and never keeps an
 * app's NOWAIT waiting behind a wait of its own); rows another transaction holds are skipped
 * and stay pending, for the revisit. The UPDATE finds the locked rows by ctid (a TID scan, no
 * index descent); a row whose version moved between the snapshot and the lock is missed, stays
 * pending and is revisited like a skipped one.
 */
function lockAndUpdate(resolved: ResolvedSpec, where: string, limit: string): string {
  const t = table(resolved);
  const pending = quoteIdent(PENDING_COLUMN);
  return [
    `batch AS MATERIALIZED (`,
    `  SELECT s.ctid AS _tandem_row, ${pkList(resolved, 's')} FROM ${t} s`,
    `  WHERE ${where} AND s.${pending}`,
    `  ORDER BY ${pkList(resolved, 's')}${limit}`,
    `  FOR UPDATE OF s SKIP LOCKED`,
    `),`,
    `updated AS (`,
    `  UPDATE ${t} SET ${backfillSets(resolved)}`,
    `  WHERE ctid = ANY (ARRAY(SELECT _tandem_row FROM batch)) AND ${pending}`,
    `  RETURNING 1`,
    `)`,
  ].join('\n');
}

/**
 * One keyset batch, its checkpoint included, as ONE autocommit statement (one round trip, one
 * commit): the first `$1` pending rows after the checkpoint up to the bound that no other
 * transaction holds. The checkpoint moves to the batch's largest key, or to the bound when fewer
 * than `$1` rows were taken (the range is exhausted); `last` when the checkpoint is the bound.
 * Params, keys as JSON arrays: $1 the batch size, the checkpoint key (when there is one), the
 * bound key, the migration name. Returns `updated`, `taken` (rows locked), `last`, `top` (the new
 * checkpoint).
 */
export function backfillRangeSql(resolved: ResolvedSpec, hasCheckpoint: boolean): string {
  const after = hasCheckpoint ? `(${pkList(resolved, 's')}) > (${pkFromJson(resolved, '$2')}) AND ` : '';
  const bound = hasCheckpoint ? '$3' : '$2';
  const name = hasCheckpoint ? '$4' : '$3';
  const where = `${after}(${pkList(resolved, 's')}) <= (${pkFromJson(resolved, bound)})`;
  const desc = resolved.table.primaryKey.map((c) => `${quoteIdent(c.name)} DESC`).join(', ');
  return [
    `WITH ${lockAndUpdate(resolved, where, ' LIMIT $1')},`,
    `progress AS (`,
    // The key is made JSON after the sort, for one row, not for every row of the batch.
    `  SELECT count(*)::int AS taken, (SELECT ${pkJson(resolved, 'b')} FROM (SELECT ${pkList(resolved)} FROM batch ORDER BY ${desc} LIMIT 1) b) AS top FROM batch`,
    `)`,
    `UPDATE tandem.migrations m SET step = 'backfilling',`,
    `  backfill_last_key = CASE WHEN p.taken < $1 THEN ${bound}::jsonb ELSE p.top::jsonb END,`,
    `  backfill_done = m.backfill_done + (SELECT count(*) FROM updated), updated_at = now()`,
    `FROM progress p WHERE m.name = ${name}`,
    `RETURNING (SELECT count(*) FROM updated)::int AS updated, p.taken, (p.taken < $1 OR p.top::jsonb = ${bound}::jsonb) AS last, m.backfill_last_key AS top`,
  ].join('\n');
}

/**
 * The server-side batch loop: a procedure in the session's own temporary schema (gone with the
 * connection) that runs the batch statements above one after another, each in its own
 * transaction (COMMIT per batch), for `slice_ms`, sizing each batch by the time the last ones
 * took (as executor/batch-sizer.ts does), and returns where it stopped. No round trip per batch:
 * the client calls it again between slices (throttle checks, progress). The statements are its
 * arguments, run by EXECUTE as plain SQL, so their names resolve exactly as in a client's
 * statement; nothing of the spec is compiled into PL/pgSQL.
 */
export const BACKFILL_SLICE_PROCEDURE = `CREATE OR REPLACE PROCEDURE pg_temp.tandem_backfill_slice(
  first_sql text, next_sql text, bound jsonb, migration text,
  target_ms float8, min_rows int, max_rows int, slice_ms float8, max_batches int,
  INOUT after jsonb, INOUT size int, INOUT rate float8,
  INOUT updated bigint, INOUT batches int, INOUT last boolean, INOUT hold_ms float8[])
LANGUAGE plpgsql AS $proc$
DECLARE
  started timestamptz := clock_timestamp();
  t0 timestamptz;
  ms float8;
  latest float8;
  r record;
BEGIN
  updated := 0; batches := 0; last := false; hold_ms := '{}';
  LOOP
    t0 := clock_timestamp();
    IF after IS NULL THEN
      EXECUTE first_sql INTO r USING size, bound, migration;
    ELSE
      EXECUTE next_sql INTO r USING size, after, bound, migration;
    END IF;
    COMMIT;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    hold_ms := hold_ms || ms;
    batches := batches + 1;
    updated := updated + r.updated;
    after := r.top;
    last := r.last;
    IF target_ms IS NOT NULL AND r.taken > 0 AND r.taken >= size / 2 THEN
      latest := r.taken / greatest(ms, 0.5);
      rate := CASE WHEN rate IS NULL OR ms > target_ms THEN latest ELSE 0.5 * rate + 0.5 * latest END;
      size := least(max_rows, greatest(min_rows, least(round(rate * target_ms)::int, size * 2)));
    END IF;
    EXIT WHEN last OR batches >= max_batches OR extract(epoch FROM clock_timestamp() - started) * 1000 >= slice_ms;
  END LOOP;
END
$proc$`;

/**
 * Rows still pending anywhere in the table, at most `$1` of them: the ones a batch skipped
 * because another transaction held them (also those skipped by a run that was killed, since the
 * marker is in the row itself). New rows are written with the marker off, so this ends.
 */
export function backfillSweepSql(resolved: ResolvedSpec): string {
  return `SELECT ${pkJson(resolved, 's')} AS key FROM ${table(resolved)} s WHERE s.${quoteIdent(PENDING_COLUMN)} LIMIT $1`;
}

/**
 * Revisit given keys (`$1`, a JSON array of keys as from `pkJson`), in one autocommit statement:
 * the ones still pending that nobody holds are backfilled, and `left` lists those still pending
 * that were held again. `$2` the migration name (its row count is added to the progress).
 */
export function backfillRevisitSql(resolved: ResolvedSpec): string {
  const pk = resolved.table.primaryKey;
  const todo = pk.map((c, i) => `(x->>${i})::${c.type} AS ${quoteIdent(c.name)}`).join(', ');
  const inTodo = `(${pkList(resolved, 's')}) IN (SELECT ${pkList(resolved)} FROM todo)`;
  return [
    `WITH todo AS (SELECT ${todo} FROM jsonb_array_elements($1::jsonb) x),`,
    `${lockAndUpdate(resolved, inTodo, '')},`,
    `left_keys AS (`,
    `  SELECT ${pkJson(resolved, 's')} AS key FROM ${table(resolved)} s`,
    `  WHERE ${inTodo} AND s.${quoteIdent(PENDING_COLUMN)} AND s.ctid <> ALL (ARRAY(SELECT _tandem_row FROM batch))`,
    `)`,
    `UPDATE tandem.migrations m SET backfill_done = m.backfill_done + (SELECT count(*) FROM updated), updated_at = now()`,
    `WHERE m.name = $2`,
    `RETURNING (SELECT count(*) FROM updated)::int AS updated, (SELECT coalesce(json_agg(key), '[]'::json) FROM left_keys) AS left_keys`,
  ].join('\n');
}
