import { Pool } from 'pg';
import { AppVersion } from '../phases/deploy/stages';
import { ExpressionEvaluator } from './expression-evaluator';
import { checkGenericTable, compareObservations, GenericMismatch, View } from './generic-check';
import { GenericRead, sidesOf } from './generic-traffic';
import { RehearsalDatabase } from './rehearsal-database';
import { LostWrite, RehearsalReport, RoundTripSummary, SchemaSummary } from './rehearsal-report';
import { describeExample, MappingPool } from './round-trip';
import { RowLedger } from './row-ledger';
import { CheckOptions, CommonReport, Emit, StageRun, Workload } from './run-rehearsal';
import { TableModel } from './table-model';
import { PAUSED, PhasedTraffic } from './phased-traffic';

/**
 * Everything a workload set up before the stages: the table, its rows, the spec's analysis, the
 * traffic, and the ledger every acknowledged write goes to (any spec's, and the demo's).
 */
export interface GenericState {
  readonly db: RehearsalDatabase;
  readonly emit: Emit;
  readonly schema: SchemaSummary;
  readonly model: TableModel;
  readonly evaluator: ExpressionEvaluator;
  readonly mappingPools: readonly MappingPool[];
  readonly specDefects: number;
  /** Rows the table had when the traffic started (seeded or copied). */
  readonly seedRows: number;
  /** Columns no mapping touches: every version reads and writes them as they are. */
  readonly untouched: readonly string[];
  readonly ledger: RowLedger;
  readonly seedCount: number;
  readonly appPools: Record<AppVersion, Pool>;
  readonly appRole: string;
  readonly traffic: PhasedTraffic;
  /** The traffic's reads since the last call, each with the write its reader had to see. */
  readonly takeReads: () => GenericRead[];
  /** The rows the report counts (the demo: generated customers, not the talk's names). */
  readonly rows: number;
  /** A failed verify before contract is a finding about the spec or the app, and contract is not run. */
  readonly verifyFailureIsFinding: boolean;
  /** With --break-checks: how many of the old version's acknowledged inserts break a CHECK the spec adds. */
  readonly specBreakingWrites?: () => number;
}

/**
 * A table, its app traffic, and the checks of every acknowledged write against the ledger: the
 * workload of any spec (traffic derived from its column mappings) and, with its own traffic, the demo's.
 */
export class GenericWorkload implements Workload {
  readonly traffic: PhasedTraffic;
  readonly oldColumns: string;
  readonly newColumns: string;
  readonly verifyFailureIsFinding: boolean;
  private readonly checks: { label: string; checked: number; mismatches: number }[] = [];
  private readonly mismatches = new Map<number, GenericMismatch>();
  private readsChecked = 0;

  constructor(protected readonly s: GenericState) {
    this.traffic = s.traffic;
    this.verifyFailureIsFinding = s.verifyFailureIsFinding;
    this.oldColumns = s.mappingPools.flatMap((p) => p.oldColumns).join(', ') || 'its columns';
    this.newColumns = s.mappingPools.flatMap((p) => p.newColumns).join('/') || 'the new columns';
  }

  async check(label: string, options: CheckOptions): Promise<void> {
    const { s } = this;
    if (!options.final) await this.traffic.shift('(checking)', PAUSED);
    const reads = s.takeReads();
    const readObs = reads.map((r) => {
      const side = r.sides ?? sidesOf(r.version);
      const view: View = { old: side.old, new: side.new, untouched: s.untouched };
      return {
        write: r.write,
        actual: r.actual,
        view,
        seenBy: `read by ${r.version} during ${label.replace(/^after /, '')}`,
      };
    });
    const readMismatches = await compareObservations(s.evaluator, s.mappingPools, readObs);
    // At the end, read back as the final version reads it: its own connection, its columns.
    const reader = options.final ? s.appPools.v3 : s.db.pool;
    const table = await checkGenericTable(s.db.pool, s.evaluator, s.model, s.mappingPools, s.ledger, {
      label,
      reader,
      newColumnsFilled: options.newColumnsFilled,
      untouched: s.untouched,
      readOld: !options.final,
    });
    const all = [...readMismatches, ...table.mismatches];
    for (const m of all) if (!this.mismatches.has(m.seq)) this.mismatches.set(m.seq, m);
    this.checks.push({ label, checked: table.checked + reads.length, mismatches: all.length });
    s.emit({ kind: 'check', label, checked: table.checked + reads.length, mismatches: all.length });
    this.readsChecked += reads.length;
  }

  async report(run: StageRun, c: CommonReport): Promise<RehearsalReport> {
    const { ledger } = this.s;
    const lost = this.mismatches.size;
    const lostOnRollback = ledger.lostOnRollback;
    return {
      ok:
        ledger.failed === 0 &&
        c.failed_reads === 0 &&
        lost === 0 &&
        run.gate.ok &&
        run.final.ok &&
        this.s.specDefects === 0 &&
        lostOnRollback.length === 0,
      migration: c.migration,
      database: c.database,
      rows: this.s.rows,
      seconds: c.seconds,
      acknowledged_writes: ledger.acknowledged - this.s.seedCount,
      failed_writes: ledger.failed,
      failed_reads: c.failed_reads,
      lost_or_altered_writes: lost,
      reads_checked: this.readsChecked,
      stages: c.stages,
      backfill_rows_per_s: c.backfill_rows_per_s,
      backfill: c.backfill,
      lock_waits: c.lock_waits,
      verify: c.verify,
      checks: this.checks,
      new_customer: null,
      app_role: this.s.appRole,
      failure_samples: ledger.failureSamples,
      mismatch_samples: [...this.mismatches.values()].slice(0, 10),
      schema: this.s.schema,
      rejected_by_schema: ledger.rejected,
      rejected_samples: ledger.rejectedSamples,
      round_trip: this.roundTrip(),
      spec_defects: this.s.specDefects,
      findings: run.findings,
      ...(this.s.specBreakingWrites ? { old_writes_breaking_spec: this.s.specBreakingWrites() } : {}),
      lost_on_rollback: { count: lostOnRollback.length, samples: lostOnRollback.slice(0, 10).map(lostWrite) },
      timeline: c.timeline,
    };
  }

  private roundTrip(): RoundTripSummary[] {
    return this.s.mappingPools.map((p) => ({
      operation: p.mapping.label,
      realistic_values: this.s.seedRows,
      defects: p.defects.count,
      defect_examples: p.defects.examples.map(describeExample),
      variations: p.risks.checked,
      rollback_risks: p.risks.count,
      risk_examples: p.risks.examples.map(describeExample),
    }));
  }
}

function lostWrite(w: RowLedger['lostOnRollback'][number]): LostWrite {
  const lossy = w.mappings.filter((m) => m.entry && !m.entry.roundTrips);
  return {
    seq: w.seq,
    id: w.key,
    version: w.version,
    stage: w.stage,
    wrote: Object.assign({}, ...lossy.map((m) => m.new)),
    rollback_gives: Object.assign({}, ...lossy.map((m) => m.entry!.back)),
  };
}
