/** One target of the issue, checked. */
export interface TargetResult {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  /** pgroll's figure for the same measure, same run, where it has one. */
  readonly pgroll?: string;
  readonly met: boolean;
}

export interface ScalingPoint {
  readonly rows: number;
  readonly backfill_seconds: number;
  readonly rows_per_s: number;
  readonly seconds_per_100k_rows: number;
  readonly peak_rss_mb: number;
  /** Lock waits over 1 ms while the backfill ran, as the server logged them (app or backfill waiting). */
  readonly lock_waits: number;
  readonly longest_lock_wait_ms: number;
  /** The longest backfill batch statement: the longest any row lock of the backfill is held. */
  readonly longest_batch_ms: number;
  /** The longest app write while the backfill ran (lock wait, CPU contention and all). */
  readonly max_write_ms: number;
  readonly p99_write_ms: number;
  /** p99 of the same traffic on the same expanded table just before the backfill started. */
  readonly p99_write_ms_idle?: number;
  /** The longest write of that idle span: what the machine alone does to a write. */
  readonly max_write_ms_idle?: number;
  readonly writes_over_lock_timeout: number;
  readonly executor_lock_retries: number;
}

/** The backfill under traffic at one --chunk-time (same table size, same traffic for each). */
export interface ChunkPoint {
  readonly chunk_time_ms: number;
  readonly rows_per_s: number;
  readonly median_batch_ms: number;
  readonly longest_batch_ms: number;
  readonly p99_write_ms_idle: number;
  readonly p99_write_ms: number;
  readonly max_write_ms_idle: number;
  readonly max_write_ms: number;
  readonly longest_lock_wait_ms: number;
}

/** bench/results.json. */
export interface BenchResults {
  readonly mode: 'quick' | 'full' | 'large';
  readonly measured_at: string;
  readonly machine: { readonly cpus: number; readonly node: string; readonly postgres: string };
  readonly rows: number;
  /** The first batch's rows; batches are then sized by time. */
  readonly batch_size: number;
  /** The target duration of one batch (--chunk-time). */
  readonly chunk_time_ms: number;
  /** Each batch statement's duration, as the executor timed it: how long its row locks are held. */
  readonly backfill_median_batch_ms: number;
  readonly backfill_longest_batch_ms: number;
  readonly backfill_rows_per_s: number;
  readonly backfill_batches: number;
  readonly single_update_rows_per_s: number;
  readonly backfill_vs_single_update: number;
  readonly trigger_overhead_ratio: number;
  readonly throughput_clients: number;
  readonly writes_per_s_without_trigger: number;
  readonly writes_per_s_with_trigger: number;
  readonly server_loop_writes_per_s_without_trigger: number;
  readonly server_loop_writes_per_s_with_trigger: number;
  readonly server_loop_trigger_ratio: number;
  /** The same loop by the backend's CPU time (robust to a loaded machine); null where /proc cannot be read. */
  readonly server_loop_cpu_ratio: number | null;
  readonly traffic_writes_per_s: number;
  readonly p99_write_ms_idle: number;
  readonly p99_write_ms_backfill: number;
  readonly backfill_peak_rss_mb: number;
  /** pgroll, side by side on identical copies of the table in the same server; null where it could not be built or run. */
  readonly pgroll_version: string | null;
  readonly pgroll_reason: string | null;
  /** Rows over the wall time of `pgroll start` (its DDL, triggers and backfill). */
  readonly pgroll_backfill_rows_per_s: number | null;
  readonly backfill_vs_pgroll: number | null;
  readonly pgroll_writes_per_s_with_trigger: number | null;
  readonly pgroll_trigger_overhead_ratio: number | null;
  readonly pgroll_server_loop_trigger_ratio: number | null;
  readonly pgroll_server_loop_cpu_ratio: number | null;
  /** Rows of the chunk-time comparison, and its points. */
  readonly chunk_rows: number;
  readonly chunk_sweep: ChunkPoint[];
  readonly scaling: ScalingPoint[];
  readonly targets: TargetResult[];
}
