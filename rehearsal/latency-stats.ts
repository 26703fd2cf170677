/** Nearest-rank percentile of a list of milliseconds (p in 0..100); 0 for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Milliseconds rounded for reports: two decimals. */
export function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
}

export function summarize(values: readonly number[]): LatencySummary {
  return {
    count: values.length,
    p50_ms: roundMs(percentile(values, 50)),
    p99_ms: roundMs(percentile(values, 99)),
    max_ms: roundMs(values.reduce((m, v) => Math.max(m, v), 0)),
  };
}
