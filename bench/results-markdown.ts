import { BenchResults } from './bench-results';

const n = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const int = (v: number) => Math.round(v).toLocaleString('en-GB');

/** bench/results.md: the targets (met or MISSED, in words) and the growth table. */
export function resultsMarkdown(r: BenchResults): string {
  const lines = [
    `# Tandem benchmark (${r.mode}, ${int(r.rows)} rows)`,
    '',
    `Measured ${r.measured_at} on ${r.machine.cpus} CPUs, Node ${r.machine.node}, PostgreSQL ${r.machine.postgres}; ` +
      `a scratch server (fsync, synchronous_commit and full_page_writes off, for both sides alike).`,
    '',
    '| measure | Tandem | pgroll, same run | target | verdict |',
    '|---|---|---|---|---|',
    ...r.targets.map(
      (t) => `| ${t.name} | ${t.measured} | ${t.pgroll ?? '-'} | ${t.target} | ${t.met ? 'met' : '**MISSED**'} |`,
    ),
    '',
    '## Figures',
    '',
    `- backfill: ${int(r.backfill_rows_per_s)} rows/s (${r.backfill_batches} batches sized by time, --chunk-time ${r.chunk_time_ms} ms, first batch ${r.batch_size} rows; each batch's row locks held ${n(r.backfill_median_batch_ms)} ms median, ${n(r.backfill_longest_batch_ms)} ms longest); single UPDATE: ${int(r.single_update_rows_per_s)} rows/s; ratio ${n(r.backfill_vs_single_update, 2)}`,
    r.pgroll_backfill_rows_per_s === null
      ? `- pgroll${r.pgroll_version ? ` ${r.pgroll_version}` : ''}: not measured: ${r.pgroll_reason}`
      : `- pgroll ${r.pgroll_version}, same table, same server: \`pgroll start\` (DDL, triggers and backfill) ${int(r.pgroll_backfill_rows_per_s)} rows/s (tandem's backfill ${n(r.backfill_vs_pgroll ?? NaN, 2)}x of it); ` +
        `v1 writes with its triggers ${r.pgroll_writes_per_s_with_trigger === null ? 'n/a' : `${int(r.pgroll_writes_per_s_with_trigger)}/s`} (ratio ${n(r.pgroll_trigger_overhead_ratio ?? NaN, 2)}), server loop ratio ${n(r.pgroll_server_loop_trigger_ratio ?? NaN, 2)}` +
        (r.pgroll_reason ? `; ${r.pgroll_reason}` : ''),
    `- v1 writes (30% creates, 70% renames) through the app's data layer, ${r.throughput_clients} clients, median of alternating rounds: ${int(r.writes_per_s_without_trigger)}/s before expand, ${int(r.writes_per_s_with_trigger)}/s after expand with the sync trigger (ratio ${n(r.trigger_overhead_ratio, 2)})`,
    `- single-row renames in a server-side loop (no client round trips), same expanded table: ${int(r.server_loop_writes_per_s_without_trigger)}/s with the trigger disabled, ${int(r.server_loop_writes_per_s_with_trigger)}/s enabled (ratio ${n(r.server_loop_trigger_ratio, 2)} by wall time, ${n(r.server_loop_cpu_ratio ?? NaN, 2)} by the backend's CPU time; pgroll's ${n(r.pgroll_server_loop_trigger_ratio ?? NaN, 2)} and ${n(r.pgroll_server_loop_cpu_ratio ?? NaN, 2)}); rounds alternate trigger off/on and Tandem/pgroll`,
    `- p99 app write latency at ${r.traffic_writes_per_s} writes/s: ${n(r.p99_write_ms_idle, 2)} ms idle, ${n(r.p99_write_ms_backfill, 2)} ms during the backfill`,
    `- peak RSS of the backfill process: ${n(r.backfill_peak_rss_mb)} MB`,
    '',
    `## The backfill's chunk time under the same traffic (${int(r.chunk_rows)} rows)`,
    '',
    '| --chunk-time ms | rows/s | median batch ms | longest batch ms | p99 app write idle ms | p99 during ms | ratio | longest app write idle ms | longest during ms | longest lock wait ms |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.chunk_sweep.map(
      (c) =>
        `| ${c.chunk_time_ms} | ${int(c.rows_per_s)} | ${n(c.median_batch_ms)} | ${n(c.longest_batch_ms)} | ${n(c.p99_write_ms_idle, 2)} | ${n(c.p99_write_ms, 2)} | ${n(c.p99_write_ms / c.p99_write_ms_idle, 2)} | ${n(c.max_write_ms_idle)} | ${n(c.max_write_ms)} | ${n(c.longest_lock_wait_ms)} |`,
    ),
    '',
    '## Growth with table size (backfill under the same v1 traffic)',
    '',
    '| rows | backfill s | rows/s | s per 100k rows | peak RSS MB | longest batch ms | lock waits > 1 ms | longest lock wait ms | longest app write ms | p99 app write ms | writes over lock_timeout | executor lock retries |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.scaling.map(
      (s) =>
        `| ${int(s.rows)} | ${n(s.backfill_seconds, 2)} | ${int(s.rows_per_s)} | ${n(s.seconds_per_100k_rows, 2)} | ${n(s.peak_rss_mb)} | ${n(s.longest_batch_ms, 1)} | ${s.lock_waits} | ${n(s.longest_lock_wait_ms, 1)} | ${n(s.max_write_ms, 1)} | ${n(s.p99_write_ms, 2)} | ${s.writes_over_lock_timeout} | ${s.executor_lock_retries} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
