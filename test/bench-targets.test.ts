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
  backfill_rows_per_s: 200_000,
  backfill_batches: 1001,
  single_update_rows_per_s: 300_000,
  backfill_vs_single_update: 0.67,
  trigger_overhead_ratio: 0.9,
  throughput_clients: 4,
  writes_per_s_without_trigger: 1000,
  writes_per_s_with_trigger: 900,
  server_loop_writes_per_s_without_trigger: 100,
  server_loop_writes_per_s_with_trigger: 80,
  server_loop_trigger_ratio: 0.8,
  traffic_writes_per_s: 200,
  p99_write_ms_idle: 5,
  p99_write_ms_backfill: 10,
  backfill_peak_rss_mb: 60,
  scaling: [point(100_000, 1), point(1_000_000, 10)],
};

const missed = (r: Omit<BenchResults, 'targets'>) => checkTargets(r).filter((t) => !t.met).map((t) => t.name);

describe('bench targets', () => {
  it('are all met by figures that meet them', () => {
    expect(missed(passing)).toEqual([]);
  });

  it.each<[string, Partial<Omit<BenchResults, 'targets'>>, RegExp]>([
    ['backfill at 0.49x of one UPDATE', { backfill_vs_single_update: 0.49 }, /^backfill throughput vs one UPDATE/],
    ['trigger ratio 0.79', { trigger_overhead_ratio: 0.79 }, /with the sync trigger vs without/],
    ['p99 during backfill 3.1x idle', { p99_write_ms_backfill: 15.5 }, /p99 app write latency/],
    ['time growing 16x for 10x rows', { scaling: [point(100_000, 1), point(1_000_000, 16)] }, /backfill time from/],
    ['time growing 5x for 10x rows (a slow small table is not linear either)', { scaling: [point(100_000, 2), point(1_000_000, 10)] }, /backfill time from/],
    ['peak RSS growing 30%', { scaling: [point(100_000, 1), point(1_000_000, 10, { peak_rss_mb: 78 })] }, /peak RSS/],
    ['the longest batch growing 4x and past +20 ms', { scaling: [point(100_000, 1, { longest_batch_ms: 10 }), point(1_000_000, 10, { longest_batch_ms: 40 })] }, /longest backfill batch/],
    ['a write slower than the lock timeout', { scaling: [point(100_000, 1), point(1_000_000, 10, { writes_over_lock_timeout: 1 })] }, /longest lock wait/],
  ])('%s is MISSED, and only that', (_, change, name) => {
    const names = missed({ ...passing, ...change });
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(name);
    expect(resultsMarkdown({ ...passing, ...change, targets: checkTargets({ ...passing, ...change }) })).toContain('**MISSED**');
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
