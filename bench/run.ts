import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { DEFAULT_BATCH_SIZE, DEFAULT_CHUNK_TIME_MS } from '../executor/backfill';
import { loadSpecFile } from '../executor/spec-file';
import { demoShapeOf } from '../rehearsal/demo-shape';
import { roundMs } from '../rehearsal/latency-stats';
import { ChildBackfill } from './backfill-child';
import { openBenchContext, round2 } from './bench-context';
import { BenchResults, ChunkPoint, ScalingPoint } from './bench-results';
import { checkTargets } from './bench-targets';
import {
  measureChunkTimes,
  measureCleanBackfill,
  measureGrowth,
  measurePgrollStart,
  measureSingleUpdate,
} from './measure-backfill';
import { measureTriggerCost, TriggerCost } from './measure-trigger';
import { buildPgroll, PgrollBuild } from './pgroll';
import { resultsMarkdown } from './results-markdown';

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
  if (quick)
    return {
      mode: 'quick',
      rows: 200_000,
      sizes: [20_000, 60_000, 200_000],
      idleSeconds: 3,
      throughputSeconds: 2,
      throughputRounds: 3,
      ...common,
    };
  return {
    mode: large ? 'large' : 'full',
    rows: 1_000_000,
    sizes: large ? [100_000, 1_000_000, 10_000_000] : [100_000, 300_000, 1_000_000],
    idleSeconds: 5,
    throughputSeconds: 5,
    // Five: three rounds of the app's writes moved its ratio by 0.05-0.08 from one run to the next.
    throughputRounds: 5,
    ...common,
  };
}

const log = (text: string) => process.stderr.write(`bench: ${text}\n`);
const fmt = (v: number) => Math.round(v).toLocaleString('en-GB');

/** The --chunk-time values compared under traffic (the default among them). */
export const CHUNK_TIMES = [10, 25, 50];

/** Side by side on one throwaway server: each measurement on its own fresh database. */
export async function runBench(plan: BenchPlan): Promise<BenchResults> {
  const spec = loadSpecFile(SPEC_PATH);
  // pgroll's Go build takes minutes on a small machine: it runs while the first measurements do.
  const pgrollBuild: Promise<PgrollBuild> = buildPgroll(log).catch((err) => ({
    bin: null,
    version: null,
    reason: `building pgroll failed: ${err.message}`,
  }));
  const ctx = await openBenchContext();
  try {
    log(`single UPDATE of ${fmt(plan.rows)} rows (the physical limit)`);
    const single = await measureSingleUpdate(ctx, plan.rows, demoShapeOf(spec));
    log(`  ${fmt(single.rowsPerSecond)} rows/s`);
    log(`tandem backfill of ${fmt(plan.rows)} rows, its own process, no traffic`);
    const clean = await measureCleanBackfill(ctx, plan.rows, spec, SPEC_PATH);
    log(
      `  ${fmt(clean.rowsPerSecond)} rows/s, ${clean.batches} batches (median ${clean.medianBatchMs} ms, longest ${clean.longestBatchMs} ms), peak RSS ${clean.peakRssMb} MB`,
    );
    const pgroll = await pgrollBuild;
    const pgrollStartRate = await measurePgrollStart(ctx, plan.rows, pgroll, log);
    if (pgrollStartRate.reason) log(`  pgroll not measured: ${pgrollStartRate.reason}`);
    const scaling = await measureGrowth(ctx, plan.sizes, spec, SPEC_PATH, plan, log);
    const chunkRows = plan.sizes[1] ?? plan.sizes[0];
    const chunkSweep = await measureChunkTimes(ctx, chunkRows, CHUNK_TIMES, spec, SPEC_PATH, plan, log);
    const trigger = await measureTriggerCost(ctx, spec, pgroll, plan, log);
    const results = assembleResults(plan, {
      postgres: await ctx.postgresVersion(),
      single,
      clean,
      pgroll,
      pgrollStartRate,
      scaling,
      chunkRows,
      chunkSweep,
      trigger,
    });
    return { ...results, targets: checkTargets(results) };
  } finally {
    await ctx.close();
  }
}

interface Measured {
  readonly postgres: string;
  readonly single: { rowsPerSecond: number };
  readonly clean: ChildBackfill;
  readonly pgroll: PgrollBuild;
  readonly pgrollStartRate: { rowsPerSecond: number | null; reason: string | null };
  readonly scaling: ScalingPoint[];
  readonly chunkRows: number;
  readonly chunkSweep: ChunkPoint[];
  readonly trigger: TriggerCost;
}

const ratioOrNull = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || a === undefined || b === null || b === undefined ? null : round2(a / b);

/** bench/results.json from the measurements (the targets are judged from it). */
function assembleResults(plan: BenchPlan, m: Measured): Omit<BenchResults, 'targets'> {
  const atRows = m.scaling.find((s) => s.rows === plan.rows) ?? m.scaling[m.scaling.length - 1];
  const { app, loop, pgrollLoop } = m.trigger;
  const pgrollRate = m.pgrollStartRate.rowsPerSecond;
  return {
    mode: plan.mode,
    measured_at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.versions.node, postgres: m.postgres },
    rows: plan.rows,
    batch_size: DEFAULT_BATCH_SIZE,
    chunk_time_ms: DEFAULT_CHUNK_TIME_MS,
    backfill_median_batch_ms: m.clean.medianBatchMs,
    backfill_longest_batch_ms: m.clean.longestBatchMs,
    backfill_rows_per_s: Math.round(m.clean.rowsPerSecond),
    backfill_batches: m.clean.batches,
    single_update_rows_per_s: Math.round(m.single.rowsPerSecond),
    backfill_vs_single_update: round2(m.clean.rowsPerSecond / m.single.rowsPerSecond),
    trigger_overhead_ratio: round2(app.with / app.without),
    throughput_clients: plan.workers,
    writes_per_s_without_trigger: Math.round(app.without),
    writes_per_s_with_trigger: Math.round(app.with),
    server_loop_writes_per_s_without_trigger: Math.round(loop.wallWithout),
    server_loop_writes_per_s_with_trigger: Math.round(loop.wallWith),
    server_loop_trigger_ratio: round2(loop.wallWith / loop.wallWithout),
    server_loop_cpu_ratio: ratioOrNull(loop.cpuWith, loop.cpuWithout),
    traffic_writes_per_s: plan.trafficWritesPerSecond,
    p99_write_ms_idle: roundMs(atRows.p99_write_ms_idle ?? NaN),
    p99_write_ms_backfill: roundMs(atRows.p99_write_ms),
    backfill_peak_rss_mb: m.clean.peakRssMb,
    pgroll_version: m.pgroll.version,
    pgroll_reason: m.pgrollStartRate.reason ?? m.trigger.pgrollReason,
    pgroll_backfill_rows_per_s: pgrollRate === null ? null : Math.round(pgrollRate),
    backfill_vs_pgroll: ratioOrNull(m.clean.rowsPerSecond, pgrollRate),
    pgroll_writes_per_s_with_trigger: app.pgroll === null ? null : Math.round(app.pgroll),
    pgroll_trigger_overhead_ratio: ratioOrNull(app.pgroll, app.without),
    pgroll_server_loop_trigger_ratio: pgrollLoop ? ratioOrNull(pgrollLoop.wallWith, pgrollLoop.wallWithout) : null,
    pgroll_server_loop_cpu_ratio: pgrollLoop ? ratioOrNull(pgrollLoop.cpuWith, pgrollLoop.cpuWithout) : null,
    chunk_rows: m.chunkRows,
    chunk_sweep: m.chunkSweep,
    scaling: m.scaling,
  };
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
  log(
    `done in ${((performance.now() - started) / 1000).toFixed(0)} s: wrote bench/out/results.json and bench/out/results.md`,
  );
  return 0;
}
