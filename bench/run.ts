import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { Client } from 'pg';
import { backfill, expand } from '../executor';
import { DEFAULT_BATCH_SIZE, DEFAULT_CHUNK_TIME_MS } from '../executor/backfill';
import { loadSpecFile } from '../phases/sql/spec';
import { demoShapeOf } from '../rehearsal/demo-shape';
import { roundMs } from '../rehearsal/latency-stats';
import { ScratchPostgres, startScratchPostgres } from '../rehearsal/scratch-postgres';
import { runBackfillProcess } from './backfill-child';
import { BenchResults, ScalingPoint } from './bench-results';
import { checkTargets, LOCK_TIMEOUT_MS } from './bench-targets';
import { backfillUnderTraffic } from './backfill-under-traffic';
import { loadCustomers } from './load-customers';
import { LOCK_WAIT_LOGGING, LOGGED_MIGRATOR, LockWaitLog, loggedMigratorSql } from './lock-wait-log';
import { buildPgroll, PgrollBuild, pgrollStart } from './pgroll';
import { resultsMarkdown } from './results-markdown';
import { singleUpdate } from './single-update';
import { serverLoopWritesPerSecond, v1WriteThroughput } from './write-throughput';

const REPO = path.join(__dirname, '..', '..');
const SPEC_PATH = path.join(REPO, 'migrations', 'split-full-name.yaml');

export interface BenchPlan {
  readonly mode: 'quick' | 'full' | 'large';
  /** Rows for the side-by-side comparisons. */
  readonly rows: number;
  /** Table sizes for the growth table (the backfill under traffic). */
  readonly sizes: number[];
  readonly idleSeconds: number;
  readonly throughputSeconds: number;
  readonly throughputRounds: number;
  readonly trafficWritesPerSecond: number;
  readonly workers: number;
}

export function benchPlan(argv: readonly string[]): BenchPlan {
  const unknown = argv.filter((a) => a !== '--quick' && a !== '--large');
  if (unknown.length) throw new Error(`unknown bench option ${unknown[0]}; options are --quick and --large`);
  const quick = argv.includes('--quick');
  const large = argv.includes('--large');
  if (quick && large) throw new Error('--quick and --large exclude each other');
  const common = { trafficWritesPerSecond: 200, workers: 4 };
  if (quick) return { mode: 'quick', rows: 200_000, sizes: [20_000, 60_000, 200_000], idleSeconds: 3, throughputSeconds: 2, throughputRounds: 3, ...common };
  return {
    mode: large ? 'large' : 'full',
    rows: 1_000_000,
    sizes: large ? [100_000, 1_000_000, 10_000_000] : [100_000, 300_000, 1_000_000],
    idleSeconds: 5,
    throughputSeconds: 5,
    throughputRounds: 3,
    ...common,
  };
}

const log = (text: string) => process.stderr.write(`bench: ${text}\n`);
const fmt = (v: number) => Math.round(v).toLocaleString('en-GB');

/** Side by side on one throwaway server: each measurement on its own fresh database. */
export async function runBench(plan: BenchPlan): Promise<BenchResults> {
  const spec = loadSpecFile(SPEC_PATH);
  const shape = demoShapeOf(spec);
  // pgroll's Go build takes minutes on a small machine: it runs while the first measurements do.
  const pgrollBuild: Promise<PgrollBuild> = buildPgroll(log).catch((err) => ({ bin: null, version: null, reason: `building pgroll failed: ${err.message}` }));
  const server = await startScratchPostgres({ settings: LOCK_WAIT_LOGGING });
  const lockLog = new LockWaitLog(server);
  const admin = new Client({ connectionString: server.url });
  await admin.connect();
  for (const statement of loggedMigratorSql()) await admin.query(statement);
  const asLoggedMigrator = (url: string) => {
    const u = new URL(url);
    u.username = LOGGED_MIGRATOR;
    return u.toString();
  };
  let counter = 0;
  const fresh = async (rows: number) => {
    const name = `bench_${counter++}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = server.urlFor(name);
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      await loadCustomers(c, rows);
      await c.query('CHECKPOINT');
    } finally {
      await c.end();
    }
    return { url, drop: () => admin.query(`DROP DATABASE ${name}`) };
  };
  const withClient = async <T>(url: string, fn: (c: Client) => Promise<T>) => {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  try {
    const postgres = (await admin.query('SHOW server_version')).rows[0].server_version as string;

    log(`single UPDATE of ${fmt(plan.rows)} rows (the physical limit)`);
    const single = await (async () => {
      const db = await fresh(plan.rows);
      const r = await withClient(db.url, (c) => singleUpdate(c, shape));
      await db.drop();
      return r;
    })();
    log(`  ${fmt(single.rowsPerSecond)} rows/s`);

    log(`tandem backfill of ${fmt(plan.rows)} rows, its own process, no traffic`);
    const clean = await (async () => {
      const db = await fresh(plan.rows);
      await expand(spec, { databaseUrl: db.url });
      await withClient(db.url, (c) => c.query('CHECKPOINT'));
      const r = await runBackfillProcess(SPEC_PATH, db.url);
      await db.drop();
      return r;
    })();
    log(`  ${fmt(clean.rowsPerSecond)} rows/s, ${clean.batches} batches (median ${clean.medianBatchMs} ms, longest ${clean.longestBatchMs} ms), peak RSS ${clean.peakRssMb} MB`);

    const pgroll = await pgrollBuild;
    let pgrollBackfill: number | null = null;
    let pgrollReason: string | null = pgroll.reason ?? null;
    if (pgroll.bin) {
      log(`pgroll ${pgroll.version} start (its DDL, triggers and backfill) on an identical ${fmt(plan.rows)}-row table`);
      try {
        const db = await fresh(plan.rows);
        const r = await pgrollStart(pgroll.bin, db.url);
        await db.drop();
        pgrollBackfill = plan.rows / r.seconds;
        log(`  ${fmt(pgrollBackfill)} rows/s (${r.seconds.toFixed(2)} s)`);
      } catch (err: any) {
        pgrollReason = err.message;
      }
    }
    if (pgrollReason) log(`  pgroll not measured: ${pgrollReason}`);

    const scaling: ScalingPoint[] = [];
    let latencyAtRows: { idle: number; during: number } | undefined;
    for (const rows of plan.sizes) {
      log(`backfill of ${fmt(rows)} rows under ${plan.trafficWritesPerSecond} v1 writes/s (${plan.idleSeconds} s idle first)`);
      const db = await fresh(rows);
      await expand(spec, { databaseUrl: db.url });
      const mark = lockLog.mark();
      const r = await backfillUnderTraffic({
        url: db.url,
        backfillUrl: asLoggedMigrator(db.url),
        specPath: SPEC_PATH,
        rows,
        idleSeconds: plan.idleSeconds,
        writesPerSecond: plan.trafficWritesPerSecond,
        workers: plan.workers,
        slowWriteMs: LOCK_TIMEOUT_MS,
      });
      const waits = lockLog.since(mark);
      await db.drop();
      if (r.during.failedWrites) throw new Error(`${r.during.failedWrites} app writes failed during the backfill of ${rows} rows`);
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
        writes_over_lock_timeout: r.during.slowWrites,
        executor_lock_retries: r.backfill.lockRetries,
      });
      if (rows === plan.rows) latencyAtRows = { idle: r.idle.p99_ms, during: r.during.p99_ms };
      log(`  ${r.backfill.seconds.toFixed(2)} s, peak RSS ${r.backfill.peakRssMb} MB; app write p99 ${r.idle.p99_ms} ms idle, ${r.during.p99_ms} ms during (max ${r.during.max_ms} ms); ${waits.count} lock waits over 1 ms, longest ${roundMs(waits.longestMs)} ms; longest batch ${roundMs(r.backfill.longestBatchMs)} ms (median ${roundMs(r.backfill.medianBatchMs)} ms)`);
    }

    log(`v1 write throughput without and with the sync trigger (${plan.throughputRounds} rounds of ${plan.throughputSeconds} s each, ${plan.workers} clients)`);
    const tputRows = 100_000;
    const without = await fresh(tputRows);
    const withTrigger = await fresh(tputRows);
    await expand(spec, { databaseUrl: withTrigger.url });
    await backfill(spec, { databaseUrl: withTrigger.url });
    await withClient(withTrigger.url, (c) => c.query('VACUUM ANALYZE customers'));
    let withPgroll: { url: string; drop: () => Promise<unknown> } | undefined;
    if (pgroll.bin && !pgrollReason) {
      try {
        withPgroll = await fresh(tputRows);
        await pgrollStart(pgroll.bin, withPgroll.url);
        await withClient(withPgroll.url, (c) => c.query('VACUUM ANALYZE customers'));
      } catch (err: any) {
        pgrollReason = `pgroll trigger not measured: ${err.message}`;
        await withPgroll?.drop();
        withPgroll = undefined;
      }
    }
    const rates = { without: [] as number[], with: [] as number[], pgroll: [] as number[] };
    for (let round = 0; round < plan.throughputRounds; round++) {
      rates.without.push((await v1WriteThroughput(without.url, tputRows, plan.throughputSeconds, plan.workers)).writesPerSecond);
      rates.with.push((await v1WriteThroughput(withTrigger.url, tputRows, plan.throughputSeconds, plan.workers)).writesPerSecond);
      if (withPgroll) rates.pgroll.push((await v1WriteThroughput(withPgroll.url, tputRows, plan.throughputSeconds, plan.workers)).writesPerSecond);
    }
    // The trigger's raw cost: the same table, its trigger disabled and enabled in turn.
    const loopWrites = 20_000;
    const loop = { without: [] as number[], with: [] as number[] };
    await withClient(withTrigger.url, async (c) => {
      for (let round = 0; round < plan.throughputRounds + 1; round++) {
        await c.query('ALTER TABLE customers DISABLE TRIGGER USER');
        loop.without.push(await serverLoopWritesPerSecond(c, tputRows, loopWrites));
        await c.query('ALTER TABLE customers ENABLE TRIGGER USER');
        loop.with.push(await serverLoopWritesPerSecond(c, tputRows, loopWrites));
      }
    });
    const [loopWithout, loopWith] = [median(loop.without), median(loop.with)];
    // pgroll's triggers, the same way: its table with its triggers disabled and enabled in turn.
    const pgLoop = { without: [] as number[], with: [] as number[] };
    if (withPgroll) {
      await withClient(withPgroll.url, async (c) => {
        for (let round = 0; round < plan.throughputRounds + 1; round++) {
          await c.query('ALTER TABLE customers DISABLE TRIGGER USER');
          pgLoop.without.push(await serverLoopWritesPerSecond(c, tputRows, loopWrites));
          await c.query('ALTER TABLE customers ENABLE TRIGGER USER');
          pgLoop.with.push(await serverLoopWritesPerSecond(c, tputRows, loopWrites));
        }
      });
      await withPgroll.drop();
    }
    await without.drop();
    await withTrigger.drop();
    log(`  app: ${fmt(median(rates.without))}/s without, ${fmt(median(rates.with))}/s with; server loop: ${fmt(loopWithout)}/s without, ${fmt(loopWith)}/s with`);
    if (withPgroll) log(`  pgroll: app ${fmt(median(rates.pgroll))}/s with its triggers; server loop ${fmt(median(pgLoop.without))}/s without, ${fmt(median(pgLoop.with))}/s with`);

    const latency = latencyAtRows ?? { idle: NaN, during: NaN };
    const results: Omit<BenchResults, 'targets'> = {
      mode: plan.mode,
      measured_at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, node: process.versions.node, postgres },
      rows: plan.rows,
      batch_size: DEFAULT_BATCH_SIZE,
      chunk_time_ms: DEFAULT_CHUNK_TIME_MS,
      backfill_median_batch_ms: clean.medianBatchMs,
      backfill_longest_batch_ms: clean.longestBatchMs,
      backfill_rows_per_s: Math.round(clean.rowsPerSecond),
      backfill_batches: clean.batches,
      single_update_rows_per_s: Math.round(single.rowsPerSecond),
      backfill_vs_single_update: round2(clean.rowsPerSecond / single.rowsPerSecond),
      trigger_overhead_ratio: round2(median(rates.with) / median(rates.without)),
      throughput_clients: plan.workers,
      writes_per_s_without_trigger: Math.round(median(rates.without)),
      writes_per_s_with_trigger: Math.round(median(rates.with)),
      server_loop_writes_per_s_without_trigger: Math.round(loopWithout),
      server_loop_writes_per_s_with_trigger: Math.round(loopWith),
      server_loop_trigger_ratio: round2(loopWith / loopWithout),
      traffic_writes_per_s: plan.trafficWritesPerSecond,
      p99_write_ms_idle: roundMs(latency.idle),
      p99_write_ms_backfill: roundMs(latency.during),
      backfill_peak_rss_mb: clean.peakRssMb,
      pgroll_version: pgroll.version,
      pgroll_reason: pgrollReason,
      pgroll_backfill_rows_per_s: pgrollBackfill === null ? null : Math.round(pgrollBackfill),
      backfill_vs_pgroll: pgrollBackfill === null ? null : round2(clean.rowsPerSecond / pgrollBackfill),
      pgroll_writes_per_s_with_trigger: rates.pgroll.length ? Math.round(median(rates.pgroll)) : null,
      pgroll_trigger_overhead_ratio: rates.pgroll.length ? round2(median(rates.pgroll) / median(rates.without)) : null,
      pgroll_server_loop_trigger_ratio: pgLoop.with.length ? round2(median(pgLoop.with) / median(pgLoop.without)) : null,
      scaling,
    };
    return { ...results, targets: checkTargets(results) };
  } finally {
    await admin.end().catch(() => undefined);
    await server.stop();
  }
}

/** Rounds alternate between the two sides; the median resists the noise of a shared machine. */
function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

export async function main(argv: string[]): Promise<number> {
  let plan: BenchPlan;
  try {
    plan = benchPlan(argv);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 2;
  }
  const started = performance.now();
  const results = await runBench(plan);
  // An ignored directory: running the benchmark never dirties the checkout (docs/performance.md's table is updated by hand).
  const dir = path.join(REPO, 'bench', 'out');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'results.md'), resultsMarkdown(results));
  process.stdout.write(resultsMarkdown(results));
  log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s: wrote bench/out/results.json and bench/out/results.md`);
  return 0;
}
