import { AppVersion, Stage } from '../phases/deploy/stages';
import { rehearsalScript } from './stage-script';
import { GenericMismatch } from './generic-check';
import { RowFailure } from './row-ledger';
import { Timeline } from './timeline';
import { summarize } from './latency-stats';
import { PhaseStats, Weights } from './phased-traffic';

/** The rehearsal's stages: the stack states, with expand's backfill shown on its own. */
/** The stages a rehearsal reports, in order: the stage table's, with the backfill after the stage that expands. */
export type RehearsalStage = Stage | 'backfill';
export const REHEARSAL_STAGES: readonly RehearsalStage[] = rehearsalScript().flatMap((step): RehearsalStage[] =>
  step.kind === 'expand' ? [step.stage as Stage, 'backfill'] : [step.stage as Stage],
);
const CANARY_STAGES: ReadonlySet<string> = new Set(
  rehearsalScript().flatMap((step) => (step.kind === 'canary' ? [step.stage] : [])),
);

export interface CanaryStepReport {
  readonly weights: Weights;
  readonly writes: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
}

export interface StageReport {
  readonly stage: RehearsalStage;
  /** App versions that served traffic in the stage. */
  readonly versions: AppVersion[];
  readonly writes: number;
  readonly reads: number;
  readonly failed_writes: number;
  readonly failed_reads: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
  /** Writes slower than the executor's lock_timeout: they may have queued behind DDL. */
  readonly slow_writes: number;
  /** One entry per canary weight (dual-write and cleanup). */
  readonly canary?: CanaryStepReport[];
}

export interface CheckSummary {
  readonly label: string;
  readonly checked: number;
  readonly mismatches: number;
}

/** The rehearsal's verdict; `--json` prints it as the last line. */
export interface RehearsalReport {
  /** failed_writes, failed_reads and lost_or_altered_writes are all 0, and the executor's verify passed. */
  readonly ok: boolean;
  readonly migration: string;
  readonly database: 'scratch' | 'given';
  /** Generated rows seeded (the talk's names come on top). */
  readonly rows: number;
  readonly seconds: number;
  readonly acknowledged_writes: number;
  readonly failed_writes: number;
  readonly failed_reads: number;
  /** Acknowledged writes a later reader or the final table did not show as written. */
  readonly lost_or_altered_writes: number;
  readonly reads_checked: number;
  readonly stages: StageReport[];
  readonly backfill_rows_per_s: number;
  readonly backfill: { readonly rows: number; readonly batches: number; readonly seconds: number };
  readonly lock_waits: {
    readonly lock_timeout_ms: number;
    readonly max_write_ms: number;
    readonly writes_slower_than_lock_timeout: number;
    readonly executor_lock_retries: number;
  };
  readonly verify: { readonly ok: boolean; readonly message: string };
  readonly checks: CheckSummary[];
  /** The talk's new customer, created by v2 during dual-write, as v3 reads it at the end. */
  readonly new_customer: {
    readonly name: string;
    readonly id: string;
    readonly first_name: string | null;
    readonly last_name: string | null;
  } | null;
  /** Who the app traffic ran as: the DML-only app role, or (when the user cannot create roles) the given user. */
  readonly app_role: string;
  readonly failure_samples: RowFailure[];
  readonly mismatch_samples: GenericMismatch[];
  /** Where the table came from, on the generic path (any spec, the user's schema). */
  readonly schema?: SchemaSummary;
  /** Writes the user's schema itself refused (a CHECK, a unique index, ...): not Tandem failures. */
  readonly rejected_by_schema?: number;
  readonly rejected_samples?: RowFailure[];
  /** The spec's up and down evaluated on realistic values and on variations, per operation. */
  readonly round_trip?: RoundTripSummary[];
  /** Realistic values on which up or down raises, or up(down(new)) != new: the spec is wrong (fails the run). */
  readonly spec_defects?: number;
  /** Acknowledged new-side writes that a rollback would not give back. */
  readonly lost_on_rollback?: { readonly count: number; readonly samples: LostWrite[] };
  /**
   * What the data breaks of what the spec promises (a row the added CHECK refuses, a duplicate for
   * an added unique key), found by verify before contract: a finding about the spec or the app that
   * wrote the rows, not a Tandem failure. Contract is then not run (it would refuse). Fails the run.
   */
  readonly findings?: string[];
  /**
   * With --break-checks: the old version's acknowledged inserts of rows that break a CHECK the spec
   * adds (later updates may mend some). Verify reports the rows that still break it before contract:
   * a finding, as above.
   */
  readonly old_writes_breaking_spec?: number;
  /** For the HTML report; not printed with --json. */
  readonly timeline?: Timeline;
}

export interface SchemaSummary {
  /** demo: the talk's customers; inferred: built from the spec; file: --schema; database: --schema-from. */
  readonly source: 'demo' | 'inferred' | 'file' | 'database';
  readonly table: string;
  /** The tables copied besides it (its foreign keys' targets). */
  readonly tables: string[];
  readonly rows: 'generated' | 'sample';
}

export interface RoundTripSummary {
  readonly operation: string;
  readonly realistic_values: number;
  readonly defects: number;
  readonly defect_examples: string[];
  readonly variations: number;
  readonly rollback_risks: number;
  readonly risk_examples: string[];
}

export interface LostWrite {
  readonly seq: number;
  readonly id: string;
  readonly version: string;
  readonly stage: string;
  readonly wrote: Record<string, string | null>;
  readonly rollback_gives: Record<string, string | null>;
}

/** Aggregate the traffic's phases into one report per stage. */
export function stageReports(phases: readonly PhaseStats[]): StageReport[] {
  return REHEARSAL_STAGES.flatMap((stage): StageReport[] => {
    const own = phases.filter((p) => p.stage === stage);
    if (own.length === 0) return [];
    const writeMs = own.flatMap((p) => p.writeMs);
    const lat = summarize(writeMs);
    const versions = [...new Set(own.flatMap((p) => Object.keys(p.byVersion) as AppVersion[]))].sort();
    const sum = (f: (p: PhaseStats) => number) => own.reduce((s, p) => s + f(p), 0);
    const canary = CANARY_STAGES.has(stage)
      ? own.map((p) => {
          const l = summarize(p.writeMs);
          return { weights: p.weights, writes: p.writes, p50_ms: l.p50_ms, p99_ms: l.p99_ms };
        })
      : undefined;
    return [
      {
        stage,
        versions,
        writes: sum((p) => p.writes),
        reads: sum((p) => p.reads),
        failed_writes: sum((p) => p.failedWrites),
        failed_reads: sum((p) => p.failedReads),
        p50_ms: lat.p50_ms,
        p99_ms: lat.p99_ms,
        max_ms: lat.max_ms,
        slow_writes: sum((p) => p.slowWrites),
        ...(canary ? { canary } : {}),
      },
    ];
  });
}

/** `v1 90% + v2 10%` */
export function weightsLabel(w: Weights): string {
  return Object.entries(w)
    .filter(([, v]) => (v ?? 0) > 0)
    .map(([k, v]) => `${k} ${v}%`)
    .join(' + ');
}

/** The short table printed at the end: words, not only colors. */
export function reportTable(r: RehearsalReport): string[] {
  const header = ['stage', 'app versions', 'writes', 'failed', 'p50 ms', 'p99 ms', 'max ms'];
  const rows = r.stages.map((s) => [
    s.stage,
    s.versions.join('+'),
    String(s.writes),
    String(s.failed_writes),
    s.p50_ms.toFixed(1),
    s.p99_ms.toFixed(1),
    s.max_ms.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const lines = [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
  for (const s of r.stages) {
    if (s.canary)
      lines.push(
        `  ${s.stage} canary steps: ${s.canary.map((c) => `${weightsLabel(c.weights)} (${c.writes} writes, p99 ${c.p99_ms.toFixed(1)} ms)`).join('; ')}`,
      );
  }
  return lines;
}
