import { expand } from '../executor';
import { MigrationSpec } from '../phases/sql/spec';
import { DemoShape } from '../rehearsal/demo-shape';
import { roundMs } from '../rehearsal/latency-stats';
import { ChildBackfill, runBackfillProcess } from './backfill-child';
import { BenchContext } from './bench-context';
import { ChunkPoint, ScalingPoint } from './bench-results';
import { LOCK_TIMEOUT_MS } from './bench-targets';
import { backfillUnderTraffic, UnderTrafficResult } from './backfill-under-traffic';
import { PgrollBuild, pgrollStart } from './pgroll';
import { singleUpdate } from './single-update';
import { errorMessage } from '../phases/error-fields';

type Log = (text: string) => void;
const fmt = (v: number) => Math.round(v).toLocaleString('en-GB');

/** One UPDATE of every row: the physical limit a backfill is compared with. */
export async function measureSingleUpdate(
  ctx: BenchContext,
  rows: number,
  shape: DemoShape,
): Promise<{ rowsPerSecond: number }> {
  const db = await ctx.fresh(rows);
  const r = await ctx.withClient(db.url, (c) => singleUpdate(c, shape));
  await db.drop();
  return r;
}

/** `tandem backfill` in its own process on an expanded table, no traffic. */
export async function measureCleanBackfill(
  ctx: BenchContext,
  rows: number,
  spec: MigrationSpec,
  specPath: string,
): Promise<ChildBackfill> {
  const db = await ctx.fresh(rows);
  await expand(spec, { databaseUrl: db.url });
  await ctx.withClient(db.url, (c) => c.query('CHECKPOINT'));
  const r = await runBackfillProcess(specPath, db.url);
  await db.drop();
  return r;
}

/** `pgroll start` (its DDL, triggers and backfill) on an identical table: rows per second, or why not measured. */
export async function measurePgrollStart(
  ctx: BenchContext,
  rows: number,
  pgroll: PgrollBuild,
  log: Log,
): Promise<{ rowsPerSecond: number | null; reason: string | null }> {
  if (!pgroll.bin) return { rowsPerSecond: null, reason: pgroll.reason ?? 'no pgroll binary' };
  log(`pgroll ${pgroll.version} start (its DDL, triggers and backfill) on an identical ${fmt(rows)}-row table`);
  try {
    const db = await ctx.fresh(rows);
    const r = await pgrollStart(pgroll.bin, db.url);
    await db.drop();
    log(`  ${fmt(rows / r.seconds)} rows/s (${r.seconds.toFixed(2)} s)`);
    return { rowsPerSecond: rows / r.seconds, reason: null };
  } catch (err) {
    return { rowsPerSecond: null, reason: errorMessage(err) };
  }
}

interface UnderTrafficPlan {
  readonly idleSeconds: number;
  readonly trafficWritesPerSecond: number;
  readonly workers: number;
}

/** The backfill of a fresh expanded `rows`-row table under steady v1 traffic, with the server's lock-wait log for that span. */
async function oneUnderTraffic(
  ctx: BenchContext,
  rows: number,
  spec: MigrationSpec,
  specPath: string,
  plan: UnderTrafficPlan,
  extraArgs: string[] = [],
) {
  const db = await ctx.fresh(rows);
  await expand(spec, { databaseUrl: db.url });
  const mark = ctx.lockLog.mark();
  const r: UnderTrafficResult = await backfillUnderTraffic({
    url: db.url,
    backfillUrl: ctx.asLoggedMigrator(db.url),
    specPath,
    rows,
    idleSeconds: plan.idleSeconds,
    writesPerSecond: plan.trafficWritesPerSecond,
    workers: plan.workers,
    slowWriteMs: LOCK_TIMEOUT_MS,
    extraArgs,
  });
  const waits = ctx.lockLog.since(mark);
  await db.drop();
  if (r.during.failedWrites)
    throw new Error(`${r.during.failedWrites} app writes failed during the backfill of ${rows} rows`);
  return { r, waits };
}

/** The growth table: the backfill under the same traffic at each size. */
export async function measureGrowth(
  ctx: BenchContext,
  sizes: readonly number[],
  spec: MigrationSpec,
  specPath: string,
  plan: UnderTrafficPlan,
  log: Log,
): Promise<ScalingPoint[]> {
  const scaling: ScalingPoint[] = [];
  for (const rows of sizes) {
    log(
      `backfill of ${fmt(rows)} rows under ${plan.trafficWritesPerSecond} v1 writes/s (${plan.idleSeconds} s idle first)`,
    );
    const { r, waits } = await oneUnderTraffic(ctx, rows, spec, specPath, plan);
    scaling.push({
      rows,
      backfill_seconds: r.backfill.seconds,
      rows_per_s: Math.round(r.backfill.rowsPerSecond),
      seconds_per_100k_rows: (r.backfill.seconds * 100_000) / rows,
      peak_rss_mb: r.backfill.peakRssMb,
      lock_waits: waits.count,
      longest_lock_wait_ms: roundMs(waits.longestMs),
      // The executor's own timing: the batches run inside a server-side loop, which the statement log does not split.
      longest_batch_ms: roundMs(r.backfill.longestBatchMs),
      max_write_ms: r.during.max_ms,
      p99_write_ms: r.during.p99_ms,
      p99_write_ms_idle: r.idle.p99_ms,
      max_write_ms_idle: r.idle.max_ms,
      writes_over_lock_timeout: r.during.slowWrites,
      executor_lock_retries: r.backfill.lockRetries,
    });
    log(
      `  ${r.backfill.seconds.toFixed(2)} s, peak RSS ${r.backfill.peakRssMb} MB; app write p99 ${r.idle.p99_ms} ms idle, ${r.during.p99_ms} ms during (max ${r.idle.max_ms} ms idle, ${r.during.max_ms} ms during); ${waits.count} lock waits over 1 ms, longest ${roundMs(waits.longestMs)} ms; longest batch ${roundMs(r.backfill.longestBatchMs)} ms (median ${roundMs(r.backfill.medianBatchMs)} ms)`,
    );
  }
  return scaling;
}

/**
 * The same backfill under the same traffic at several --chunk-time values, on one table size:
 * what a batch's row-lock hold costs the app writes that meet it, against the backfill's rate.
 */
export async function measureChunkTimes(
  ctx: BenchContext,
  rows: number,
  chunkTimes: readonly number[],
  spec: MigrationSpec,
  specPath: string,
  plan: UnderTrafficPlan,
  log: Log,
): Promise<ChunkPoint[]> {
  const points: ChunkPoint[] = [];
  for (const chunk of chunkTimes) {
    log(`chunk time ${chunk} ms: backfill of ${fmt(rows)} rows under ${plan.trafficWritesPerSecond} v1 writes/s`);
    const { r, waits } = await oneUnderTraffic(ctx, rows, spec, specPath, plan, ['--chunk-time', String(chunk)]);
    points.push({
      chunk_time_ms: chunk,
      rows_per_s: Math.round(r.backfill.rowsPerSecond),
      median_batch_ms: roundMs(r.backfill.medianBatchMs),
      longest_batch_ms: roundMs(r.backfill.longestBatchMs),
      p99_write_ms_idle: r.idle.p99_ms,
      p99_write_ms: r.during.p99_ms,
      max_write_ms_idle: r.idle.max_ms,
      max_write_ms: r.during.max_ms,
      longest_lock_wait_ms: roundMs(waits.longestMs),
    });
    log(
      `  ${fmt(r.backfill.rowsPerSecond)} rows/s; p99 ${r.idle.p99_ms} ms idle, ${r.during.p99_ms} ms during; max ${r.idle.max_ms} ms idle, ${r.during.max_ms} ms during; batches ${roundMs(r.backfill.medianBatchMs)} ms median, ${roundMs(r.backfill.longestBatchMs)} ms longest; longest lock wait ${roundMs(waits.longestMs)} ms`,
    );
  }
  return points;
}
