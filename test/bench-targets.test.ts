import { BenchResults, ScalingPoint } from '../bench/bench-results';
import { checkTargets } from '../bench/bench-targets';
import { resultsMarkdown } from '../bench/results-markdown';
import { benchPlan } from '../bench/run';

const point = (rows: number, seconds: number, extra: Partial<ScalingPoint> = {}): ScalingPoint => ({
  rows,
  backfill_seconds: seconds,
  rows_per_s: rows / seconds,
  seconds_per_100k_rows: (seconds * 100_000) / rows,
  peak_rss_mb: 60,
  longest_batch_ms: 10,
  lock_waits: 0,
  longest_lock_wait_ms: 2,
  max_write_ms: 10,
  p99_write_ms: 5,
  writes_over_lock_timeout: 0,
  executor_lock_retries: 0,
  ...extra,
});

/** Figures that meet every target. */
const passing: Omit<BenchResults, 'targets'> = {
  mode: 'full',
  measured_at: '2026-01-01T00:00:00.000Z',
  machine: { cpus: 2, node: '20', postgres: '15' },
  rows: 1_000_000,
  batch_size: 1000,
  chunk_time_ms: 50,
  backfill_median_batch_ms: 52,
  backfill_longest_batch_ms: 200,
  backfill_rows_per_s: 255_000,
  backfill_batches: 120,
  single_update_rows_per_s: 300_000,
  backfill_vs_single_update: 0.85,
  trigger_overhead_ratio: 0.9,
  throughput_clients: 4,
  writes_per_s_without_trigger: 1000,
  writes_per_s_with_trigger: 900,
  server_loop_writes_per_s_without_trigger: 100,
  server_loop_writes_per_s_with_trigger: 90,
  server_loop_trigger_ratio: 0.9,
  server_loop_cpu_ratio: 0.85,
  traffic_writes_per_s: 200,
  p99_write_ms_idle: 5,
  p99_write_ms_backfill: 10,
  backfill_peak_rss_mb: 60,
  pgroll_version: null,
  pgroll_reason: 'the go toolchain is not installed',
  pgroll_backfill_rows_per_s: 46_000,
  backfill_vs_pgroll: 5.5,
  pgroll_writes_per_s_with_trigger: null,
  pgroll_trigger_overhead_ratio: null,
  pgroll_server_loop_trigger_ratio: null,
  pgroll_server_loop_cpu_ratio: null,
  chunk_rows: 300_000,
  chunk_sweep: [],
  scaling: [point(100_000, 1), point(1_000_000, 10)],
};

const missed = (r: Omit<BenchResults, 'targets'>) =>
  checkTargets(r)
    .filter((t) => !t.met)
    .map((t) => t.name);

describe('bench targets', () => {
  it('are all met by figures that meet them', () => {
    expect(missed(passing)).toEqual([]);
  });

  it.each<[string, Partial<Omit<BenchResults, 'targets'>>, RegExp]>([
    ['backfill at 0.79x of one UPDATE', { backfill_vs_single_update: 0.79 }, /^backfill throughput vs one UPDATE/],
    [
      'trigger ratio 0.89 through the app',
      { trigger_overhead_ratio: 0.89 },
      /with the sync trigger vs without, through the app/,
    ],
    ['trigger ratio 0.79 in a server loop, by CPU time', { server_loop_cpu_ratio: 0.79 }, /server-side loop/],
    [
      'trigger ratio 0.79 in a server loop, by wall time where CPU time was not read',
      { server_loop_cpu_ratio: null, server_loop_trigger_ratio: 0.79 },
      /server-side loop \(by wall time\)/,
    ],
    ["trigger ratio behind pgroll's through the app", { pgroll_trigger_overhead_ratio: 0.92 }, /through the app/],
    ['p99 during backfill 2.1x idle', { p99_write_ms_backfill: 10.5 }, /^p99 app write during the backfill/],
    [
      'a write during the backfill longer than the chunk time + 10 ms',
      { scaling: [point(100_000, 1), point(1_000_000, 10, { max_write_ms: 61 })] },
      /^p99 app write during the backfill/,
    ],
    ['backfill 4.9x pgroll start', { backfill_vs_pgroll: 4.9 }, /^backfill vs pgroll start/],
    [
      'pgroll not measured',
      { backfill_vs_pgroll: null, pgroll_backfill_rows_per_s: null },
      /^backfill vs pgroll start/,
    ],
    [
      'batches holding their locks 3x the chunk time',
      { backfill_median_batch_ms: 150 },
      /row-lock hold per backfill batch/,
    ],
    [
      'a batch holding its locks 11x the chunk time',
      { backfill_longest_batch_ms: 550 },
      /row-lock hold per backfill batch/,
    ],
    ['time growing 16x for 10x rows', { scaling: [point(100_000, 1), point(1_000_000, 16)] }, /backfill time from/],
    [
      'time growing 5x for 10x rows (a slow small table is not linear either)',
      { scaling: [point(100_000, 2), point(1_000_000, 10)] },
      /backfill time from/,
    ],
    ['peak RSS growing 30%', { scaling: [point(100_000, 1), point(1_000_000, 10, { peak_rss_mb: 78 })] }, /peak RSS/],
    [
      'the longest batch growing 4x and past +20 ms',
      { scaling: [point(100_000, 1, { longest_batch_ms: 10 }), point(1_000_000, 10, { longest_batch_ms: 40 })] },
      /longest backfill batch/,
    ],
    [
      'a write slower than the lock timeout',
      { scaling: [point(100_000, 1), point(1_000_000, 10, { writes_over_lock_timeout: 1 })] },
      /longest lock wait/,
    ],
  ])('%s is MISSED, and only that', (_, change, name) => {
    const names = missed({ ...passing, ...change });
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(name);
    expect(resultsMarkdown({ ...passing, ...change, targets: checkTargets({ ...passing, ...change }) })).toContain(
      '**MISSED**',
    );
  });
});

describe('benchPlan', () => {
  it.each([
    [[], 'full', 1_000_000, [100_000, 300_000, 1_000_000]],
    [['--quick'], 'quick', 200_000, [20_000, 60_000, 200_000]],
    [['--large'], 'large', 1_000_000, [100_000, 1_000_000, 10_000_000]],
  ])('%j runs the comparisons at the right sizes', (argv, mode, rows, sizes) => {
    expect(benchPlan(argv)).toMatchObject({ mode, rows, sizes });
  });

  it.each([[['--quick', '--large']], [['--fast']]])('%j is refused', (argv) => {
    expect(() => benchPlan(argv)).toThrow(/--quick|--large|--fast/);
  });
});
