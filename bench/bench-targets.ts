import { BenchResults, TargetResult } from './bench-results';

/** The executor's default lock_timeout: app writes slower than this may have queued behind DDL. */
export const LOCK_TIMEOUT_MS = 1000;

/** The issue's targets, each with the rule it is judged by. */
export function checkTargets(r: Omit<BenchResults, 'targets'>): TargetResult[] {
  const first = r.scaling[0];
  const last = r.scaling[r.scaling.length - 1];
  const growth = last.rows / first.rows;
  const timeGrowth = last.backfill_seconds / first.backfill_seconds;
  const p99Ratio = r.p99_write_ms_backfill / r.p99_write_ms_idle;
  const atRows = r.scaling.find((s) => s.rows === r.rows) ?? last;
  const x = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(2)}x`);
  // The server loop by the backend's CPU time where it could be read (a loaded machine inflates wall time), else by wall time.
  const loop = r.server_loop_cpu_ratio ?? r.server_loop_trigger_ratio;
  const pgLoop = r.pgroll_server_loop_cpu_ratio ?? r.pgroll_server_loop_trigger_ratio;
  const loopBy = r.server_loop_cpu_ratio === null ? 'wall time' : 'backend CPU time';
  return [
    {
      name: `v1 writes with the sync trigger vs without, through the app (${r.throughput_clients} clients)`,
      target: '>= 0.9x, and ahead of pgroll',
      measured: `${x(r.trigger_overhead_ratio)} (${r.writes_per_s_with_trigger} vs ${r.writes_per_s_without_trigger} writes/s)`,
      pgroll: x(r.pgroll_trigger_overhead_ratio),
      met:
        r.trigger_overhead_ratio >= 0.9 &&
        (r.pgroll_trigger_overhead_ratio === null || r.trigger_overhead_ratio > r.pgroll_trigger_overhead_ratio),
    },
    {
      name: `single-row renames with the sync trigger vs without, server-side loop (by ${loopBy})`,
      target: '>= 0.8x',
      measured: `${x(loop)} (wall time ${x(r.server_loop_trigger_ratio)}: ${r.server_loop_writes_per_s_with_trigger} vs ${r.server_loop_writes_per_s_without_trigger} writes/s)`,
      pgroll: pgLoop === null ? 'n/a' : `${x(pgLoop)} (wall time ${x(r.pgroll_server_loop_trigger_ratio)})`,
      met: loop >= 0.8,
    },
    {
      name: `p99 app write during the backfill of ${atRows.rows} rows vs idle, and the longest write (--chunk-time ${r.chunk_time_ms} ms)`,
      target: `<= 2x, and no write over ${r.chunk_time_ms + 10} ms (the chunk time + 10 ms)`,
      measured: `${p99Ratio.toFixed(2)}x (${r.p99_write_ms_backfill} vs ${r.p99_write_ms_idle} ms); longest write ${atRows.max_write_ms} ms (${atRows.max_write_ms_idle ?? 'n/a'} ms idle), longest server-logged lock wait ${atRows.longest_lock_wait_ms} ms`,
      met: p99Ratio <= 2 && atRows.max_write_ms <= r.chunk_time_ms + 10,
    },
    {
      name: `backfill vs pgroll start (${r.rows} rows)`,
      target: '>= 5x',
      // No backfill outruns one UPDATE of every row: single UPDATE / pgroll is the most any could reach.
      measured:
        r.backfill_vs_pgroll === null || r.pgroll_backfill_rows_per_s === null
          ? `not measured: ${r.pgroll_reason}`
          : `${x(r.backfill_vs_pgroll)} (${r.backfill_rows_per_s} vs ${r.pgroll_backfill_rows_per_s} rows/s; one UPDATE of all rows: ${x(r.single_update_rows_per_s / r.pgroll_backfill_rows_per_s)})`,
      pgroll: r.backfill_vs_pgroll === null ? 'n/a' : '1x',
      met: r.backfill_vs_pgroll !== null && r.backfill_vs_pgroll >= 5,
    },
    {
      name: `backfill throughput vs one UPDATE of all ${r.rows} rows`,
      target: '>= 0.8x',
      measured: `${r.backfill_vs_single_update.toFixed(2)}x (${r.backfill_rows_per_s} vs ${r.single_update_rows_per_s} rows/s)`,
      met: r.backfill_vs_single_update >= 0.8,
    },
    {
      name: `row-lock hold per backfill batch (--chunk-time ${r.chunk_time_ms} ms)`,
      target: `median <= 2x the chunk time, longest <= 10x`,
      measured: `median ${r.backfill_median_batch_ms} ms, longest ${r.backfill_longest_batch_ms} ms`,
      met: r.backfill_median_batch_ms <= 2 * r.chunk_time_ms && r.backfill_longest_batch_ms <= 10 * r.chunk_time_ms,
    },
    {
      name: `backfill time from ${first.rows} to ${last.rows} rows (${growth}x rows)`,
      target: 'linear: time grows within 1.5x of the row growth, either way',
      measured: `${timeGrowth.toFixed(1)}x (${r.scaling.map((s) => `${s.backfill_seconds.toFixed(2)} s`).join(', ')})`,
      met: timeGrowth <= growth * 1.5 && timeGrowth >= growth / 1.5,
    },
    {
      name: 'peak RSS of the backfill process across sizes',
      target: 'flat: largest within 1.25x of smallest',
      measured: `${first.peak_rss_mb} MB to ${last.peak_rss_mb} MB`,
      met: last.peak_rss_mb <= first.peak_rss_mb * 1.25,
    },
    {
      name: 'longest backfill batch (how long its row locks are held) across sizes',
      target: 'flat: largest at most 3x the smallest (or +20 ms)',
      measured: r.scaling.map((s) => `${s.longest_batch_ms} ms`).join(', '),
      met: last.longest_batch_ms <= Math.max(3 * first.longest_batch_ms, first.longest_batch_ms + 20),
    },
    {
      name: 'longest lock wait during backfill across sizes (server-logged)',
      target: `flat: largest at most 3x the smallest (or +20 ms), all under the ${LOCK_TIMEOUT_MS} ms lock_timeout`,
      measured: r.scaling.map((s) => `${s.longest_lock_wait_ms} ms`).join(', '),
      met:
        last.longest_lock_wait_ms <= Math.max(3 * first.longest_lock_wait_ms, first.longest_lock_wait_ms + 20) &&
        r.scaling.every((s) => s.longest_lock_wait_ms < LOCK_TIMEOUT_MS && s.writes_over_lock_timeout === 0),
    },
  ];
}
