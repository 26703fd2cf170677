import { RehearsalStoppedError } from './rehearsal-errors';
import { performance } from 'perf_hooks';
import {
  backfill,
  BackfillResult,
  contract,
  expand,
  ExecutorOptions,
  ProgressEvent,
  verify,
  VerifyReport,
} from '../executor';
import { AppVersion, Stage } from '../phases/deploy/stages';
import { MigrationSpec } from '../phases/sql/spec';
import { openRehearsalDatabase, RehearsalDatabase } from './rehearsal-database';
import { RehearsalReport, RehearsalStage, stageReports, StageReport } from './rehearsal-report';
import { TrafficSplit, rehearsalScript, ScriptStep } from './stage-script';
import { Timeline, TimelineRecorder } from './timeline';
import { PhasedTraffic, PhaseStats, Weights } from './phased-traffic';

export interface RehearsalOptions {
  /** Generated rows to seed (the demo: customers, on top of the talk's names; default 10000). */
  readonly rows?: number;
  /** A scratch database to use; default: a throwaway PostgreSQL server started from the local binaries. */
  readonly databaseUrl?: string;
  /** The executor's lock_timeout, ms (default 1000); app writes slower than it are reported. */
  readonly lockTimeoutMs?: number;
  /** How long traffic runs at each canary weight and in each other stage at least, ms (default 1500). */
  readonly stepMs?: number;
  readonly workers?: number;
  readonly opsPerSecond?: number;
  readonly batchSize?: number;
  /** Keep the table in a given database afterwards (never applies to the scratch server). */
  readonly keep?: boolean;
  readonly seed?: number;
  readonly onEvent?: (event: RehearsalEvent) => void;
}

export type RehearsalEvent =
  | { readonly kind: 'stage'; readonly stage: RehearsalStage; readonly weights: Weights; readonly message: string }
  | { readonly kind: 'traffic'; readonly stats: PhaseStats }
  | { readonly kind: 'executor'; readonly event: ProgressEvent }
  | { readonly kind: 'check'; readonly label: string; readonly checked: number; readonly mismatches: number }
  | { readonly kind: 'info'; readonly message: string };

export type Emit = (event: RehearsalEvent) => void;

/** What a workload's check is asked to look at. */
export interface CheckOptions {
  /** The backfill has run: the new columns must hold what the spec derives. */
  readonly newColumnsFilled: boolean;
  /** The traffic has stopped and the schema is contracted: the last check. */
  readonly final: boolean;
}

/** A table, its rows and the app traffic on it, ready for the stages. */
export interface Workload {
  readonly traffic: PhasedTraffic;
  /** The columns the old app version serves, for the stage messages ("full_name"). */
  readonly oldColumns: string;
  /** The columns the backfill fills, for the stage messages ("first_name/last_name"). */
  readonly newColumns: string;
  /** A failed verify before contract is a finding about the spec or the app, and contract is not run. */
  readonly verifyFailureIsFinding: boolean;
  /** Work of the workload's own at each canary step (after the traffic shifted, before it runs). */
  atCanaryStep?(stage: Stage, step: TrafficSplit): Promise<void>;
  /** Pause the traffic, compare the table and the reads so far with the ledger; counts the reads. */
  check(label: string, options: CheckOptions): Promise<void>;
  /** The report, from the stages' outcome and the fields every rehearsal reports. */
  report(run: StageRun, common: CommonReport): Promise<RehearsalReport>;
}

/** Everything a workload's setup needs from the driver. */
export interface SetupContext {
  readonly db: RehearsalDatabase;
  readonly emit: Emit;
  /** Runs when the rehearsal ends, however it ends (after the traffic stopped, before the database closes). */
  readonly onClose: (cleanup: () => Promise<unknown>) => void;
}

/** How to build a workload: the driver opens the database, the workload fills it. */
export interface WorkloadSetup {
  /** Open the database without the demo's defaults (the workload brings its own table). */
  readonly emptyDatabase: boolean;
  /** Errors during setup that carry an exit code are the user's (bad --schema, ...): passed on as they are. */
  readonly passSetupErrors: boolean;
  prepare(ctx: SetupContext): Promise<Workload>;
}

/** What the stages produced, for the report. */
export interface StageRun {
  readonly gate: VerifyReport;
  readonly final: VerifyReport;
  readonly filled: BackfillResult;
  readonly lockRetries: number;
  readonly findings: string[];
}

/** The report fields every rehearsal computes the same way. */
export interface CommonReport {
  readonly migration: string;
  readonly database: RehearsalDatabase['kind'];
  readonly seconds: number;
  readonly failed_reads: number;
  readonly stages: StageReport[];
  readonly backfill_rows_per_s: number;
  readonly backfill: RehearsalReport['backfill'];
  readonly lock_waits: RehearsalReport['lock_waits'];
  readonly verify: RehearsalReport['verify'];
  readonly timeline: Timeline;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Rehearse a spec end to end on a database: the workload seeds its table and runs its app traffic;
 * the driver walks the stage table (baseline -> expand (+ backfill) -> dual-write -> cleanup ->
 * contract) through the executor library, the canary weights from the adjacent app versions,
 * and has the workload check every acknowledged write after each stage.
 */
export async function runRehearsal(
  spec: MigrationSpec,
  options: RehearsalOptions,
  setup: WorkloadSetup,
): Promise<RehearsalReport> {
  const emit: Emit = options.onEvent ?? (() => undefined);
  const started = performance.now();
  const db = await openRehearsalDatabase(spec, options.databaseUrl, emit, setup.emptyDatabase ? { empty: true } : {});
  const cleanups: (() => Promise<unknown>)[] = [];
  const state = {
    current: 'setup',
    workload: undefined as Workload | undefined,
    ticker: undefined as NodeJS.Timeout | undefined,
  };
  try {
    const workload = await setup.prepare({ db, emit, onClose: (c) => cleanups.push(c) });
    state.workload = workload;
    const walk = new StageWalk(spec, options, db, workload, emit, (stage) => (state.current = stage));
    state.ticker = setInterval(() => emit({ kind: 'traffic', stats: workload.traffic.currentStats() }), 250);
    const run = await walk.run(() => {
      clearInterval(state.ticker);
      state.ticker = undefined;
    });
    return await workload.report(run, commonReport(spec, db, run, workload.traffic.phases, walk, started));
  } catch (err) {
    const e = err as { message?: string; exitCode?: number };
    if (setup.passSetupErrors && state.current === 'setup' && e?.exitCode !== undefined) throw err;
    throw new RehearsalStoppedError(state.current, err);
  } finally {
    if (state.ticker) clearInterval(state.ticker);
    if (state.workload) await state.workload.traffic.stop().catch(() => undefined);
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await db.close(options.keep ?? false);
  }
}

/** The stage table walked under traffic: one step per stage, chosen by the side the stage changes. */
class StageWalk {
  readonly timeline = new TimelineRecorder();
  readonly lockTimeoutMs: number;
  private readonly stepMs: number;
  private readonly executor: ExecutorOptions;
  private lockRetries = 0;
  private gate: VerifyReport | undefined;
  private filled: BackfillResult | undefined;
  private final: VerifyReport | undefined;
  private readonly findings: string[] = [];

  constructor(
    private readonly spec: MigrationSpec,
    private readonly options: RehearsalOptions,
    db: RehearsalDatabase,
    private readonly workload: Workload,
    private readonly emit: Emit,
    private readonly entered: (stage: string) => void,
  ) {
    this.stepMs = options.stepMs ?? 1500;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 1000;
    this.executor = {
      databaseUrl: db.url,
      lockTimeoutMs: this.lockTimeoutMs,
      onProgress: (event: ProgressEvent) => {
        this.timeline.executor(event);
        emit({ kind: 'executor', event });
      },
    };
  }

  /** Every step of the script (from the stage table) in order; `trafficStopped` runs once the last stage's traffic is done. */
  async run(trafficStopped: () => void, script: readonly ScriptStep[] = rehearsalScript()): Promise<StageRun> {
    for (const step of script) {
      if (step.kind === 'baseline') await this.baseline(step.stage as Stage, step.app);
      else if (step.kind === 'canary') await this.canary(step.stage as Stage, step.app, step.steps);
      else if (step.kind === 'expand') await this.expand(step.stage as Stage, step.app);
      else await this.contract(step.stage as Stage, step.app, trafficStopped);
    }
    if (!this.gate || !this.filled || !this.final) throw new Error('the stage table has no expand or contract stage');
    return {
      gate: this.gate,
      final: this.final,
      filled: this.filled,
      lockRetries: this.lockRetries,
      findings: this.findings,
    };
  }

  private async baseline(stage: Stage, app: AppVersion): Promise<void> {
    this.entered(stage);
    this.emit({
      kind: 'stage',
      stage,
      weights: { [app]: 100 },
      message: `${stage}: ${app} serves all traffic on ${this.workload.oldColumns}`,
    });
    this.workload.traffic.start(stage, { [app]: 100 });
    await this.during(async () => undefined);
    await this.workload.check(`after ${stage}`, { newColumnsFilled: false, final: false });
  }

  /** expand, then its backfill (a stage of its own in the report), then verify. */
  private async expand(stage: Stage, app: AppVersion): Promise<void> {
    await this.enter(stage, { [app]: 100 }, `${stage}: new columns and the sync trigger, while ${app} writes`);
    this.lockRetries += (await this.during(() => expand(this.spec, this.executor))).lockRetries;
    await this.enter(
      'backfill',
      { [app]: 100 },
      `backfill: keyset batches fill ${this.workload.newColumns}, while ${app} writes`,
    );
    const filled = await this.during(() =>
      backfill(this.spec, { ...this.executor, batchSize: this.options.batchSize }),
    );
    this.filled = filled;
    this.lockRetries += filled.lockRetries;
    this.gate = await verify(this.spec, this.executor);
    this.emit({ kind: 'info', message: `verify after backfill: ${this.gate.message}` });
    await this.workload.check('after backfill', { newColumnsFilled: true, final: false });
  }

  /** The previous stage's app version hands traffic to this stage's, canary step by canary step. */
  private async canary(stage: Stage, app: AppVersion, steps: readonly TrafficSplit[]): Promise<void> {
    for (const step of steps) {
      await this.enter(stage, step.weights, `${stage}: ${app} canary at ${step.share}%`);
      await this.workload.atCanaryStep?.(stage, step);
      await this.during(async () => undefined);
    }
    await this.workload.check(`after ${stage}`, { newColumnsFilled: true, final: false });
  }

  /** verify, then contract; a failed verify is a finding (contract not run) where the workload says so. */
  private async contract(stage: Stage, app: AppVersion, trafficStopped: () => void): Promise<void> {
    await this.enter(
      stage,
      { [app]: 100 },
      `${stage}: verify, then drop ${this.workload.oldColumns} and the trigger, while ${app} writes`,
    );
    const final = await verify(this.spec, this.executor);
    this.final = final;
    if (final.ok || !this.workload.verifyFailureIsFinding)
      this.lockRetries += (await this.during(() => contract(this.spec, this.executor))).lockRetries;
    else {
      // The rows break what the spec promises: contract would refuse. That is the spec's or the
      // app's to fix (tandem verify names the rows), not a failure of Tandem's.
      this.findings.push(`verify before contract: ${final.message}`);
      this.emit({
        kind: 'info',
        message: `finding (the spec or the app, not Tandem): ${final.message}; contract is not run`,
      });
      await this.during(async () => undefined);
    }
    await this.workload.traffic.stop();
    trafficStopped();
    await this.workload.check(`after ${stage}`, { newColumnsFilled: true, final: true });
  }

  private async enter(stage: RehearsalStage, weights: Weights, message: string): Promise<void> {
    this.entered(stage);
    this.emit({ kind: 'stage', stage, weights, message });
    await this.workload.traffic.shift(stage, weights);
  }

  /** Run one stage's work under traffic for at least stepMs. */
  private async during<T>(work: () => Promise<T>): Promise<T> {
    const begun = performance.now();
    const result = await work();
    await sleep(Math.max(0, this.stepMs - (performance.now() - begun)));
    return result;
  }
}

function commonReport(
  spec: MigrationSpec,
  db: RehearsalDatabase,
  run: StageRun,
  phases: readonly PhaseStats[],
  walk: StageWalk,
  started: number,
): CommonReport {
  const stages = stageReports(phases);
  const allWriteMs = phases.flatMap((p) => p.writeMs);
  return {
    migration: spec.name,
    database: db.kind,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    failed_reads: stages.reduce((s, st) => s + st.failed_reads, 0),
    stages,
    backfill_rows_per_s: Math.round(run.filled.rowsPerSecond),
    backfill: { rows: run.filled.rowsUpdated, batches: run.filled.batches, seconds: run.filled.seconds },
    lock_waits: {
      lock_timeout_ms: walk.lockTimeoutMs,
      max_write_ms: Math.round(allWriteMs.reduce((m, v) => Math.max(m, v), 0) * 100) / 100,
      writes_slower_than_lock_timeout: phases.reduce((s, p) => s + p.slowWrites, 0),
      executor_lock_retries: run.lockRetries,
    },
    verify: { ok: run.gate.ok && run.final.ok, message: run.final.message },
    timeline: walk.timeline.build(phases, walk.lockTimeoutMs),
  };
}
