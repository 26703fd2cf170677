import { RehearsalStoppedError } from './rehearsal-errors';
import { performance } from 'perf_hooks';
import { Pool } from 'pg';
import { CustomerStore } from '../app/customer-store';
import { NEW_CUSTOMER } from '../app/seed-data';
import { createStore } from '../app/versions';
import { backfill, contract, expand, ProgressEvent, verify } from '../executor';
import { MigrationSpec } from '../phases/sql/spec';
import { AppVersion } from '../phases/deploy/stages';
import { britishNames } from './british-names';
import { CheckReport, checkTable, compareWrites, Mismatch } from './consistency-check';
import { createAppRole, customersTableSql, seedCustomers, urlAs } from './demo-database';
import { demoShapeOf } from './demo-shape';
import { rehearseGeneric, SchemaOptions } from './generic-rehearse';
import { SpecError } from '../phases/errors';
import { canarySteps } from './stage-script';
import { TimelineRecorder } from './timeline';
import { RehearsalDatabase, openRehearsalDatabase } from './rehearsal-database';
import { RehearsalReport, RehearsalStage, reportTable, stageReports } from './rehearsal-report';
import { PAUSED, PhaseStats, TrafficGenerator, Weights } from './traffic';
import { WriteLedger } from './write-ledger';

export { reportTable };

export { CANARY_WEIGHTS } from './stage-script';

export interface RehearsalOptions {
  /** Generated customers to seed, on top of the talk's names (default 10000). */
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

/** The demo's spec with no schema of the user's: the talk's customers table and the demo app's own v1/v2/v3. */
function isDemo(spec: MigrationSpec, options: SchemaOptions): boolean {
  if (options.schemaFile !== undefined || options.schemaFrom !== undefined || options.sample !== undefined) return false;
  try {
    demoShapeOf(spec);
    return true;
  } catch (err) {
    if (err instanceof SpecError) return false;
    throw err;
  }
}

export type RehearsalEvent =
  | { readonly kind: 'stage'; readonly stage: RehearsalStage; readonly weights: Weights; readonly message: string }
  | { readonly kind: 'traffic'; readonly stats: PhaseStats }
  | { readonly kind: 'executor'; readonly event: ProgressEvent }
  | { readonly kind: 'check'; readonly label: string; readonly checked: number; readonly mismatches: number }
  | { readonly kind: 'info'; readonly message: string };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Rehearse a refactoring end to end on a scratch database: seed the talk's customers, then walk
 * baseline -> expand (+ backfill) -> dual-write -> cleanup -> contract through the executor
 * library while the demo app's own v1/v2/v3 data layers write and read at the canary weights,
 * and check that every acknowledged write survives.
 */
export async function rehearse(spec: MigrationSpec, options: RehearsalOptions & SchemaOptions = {}): Promise<RehearsalReport> {
  if (!isDemo(spec, options)) return rehearseGeneric(spec, options);
  const shape = demoShapeOf(spec);
  const timeline = new TimelineRecorder();
  const emit = options.onEvent ?? (() => undefined);
  const rows = options.rows ?? 10000;
  const stepMs = options.stepMs ?? 1500;
  const lockTimeoutMs = options.lockTimeoutMs ?? 1000;
  const started = performance.now();

  const db = await openRehearsalDatabase(spec, options.databaseUrl, emit);
  const pools: Pool[] = [];
  let traffic: TrafficGenerator | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let current = 'setup';
  try {
    const admin = db.pool;
    await admin.query(customersTableSql(shape.table));
    const seeded = await seedCustomers(admin, rows, britishNames(options.seed ?? 1), shape.table);
    emit({ kind: 'info', message: `seeded ${seeded.length} customers (${rows} generated + the talk's names)` });
    const { appUrl, appRole } = await appConnection(db, shape.table, emit);
    const { stores, versionPools } = openStores(appUrl, options.workers ?? 8, pools);

    const ledger = new WriteLedger();
    for (const s of seeded) ledger.record({ id: s.id, version: 'v1', op: 'seed', columns: { full_name: s.name }, stage: 'baseline' });
    traffic = new TrafficGenerator({
      stores,
      ledger,
      names: britishNames((options.seed ?? 1) + 1),
      ids: seeded.map((s) => s.id),
      pools: versionPools,
      workers: options.workers,
      opsPerSecond: options.opsPerSecond,
      slowWriteMs: lockTimeoutMs,
    });
    const t = traffic;
    const checks: CheckReport[] = [];
    const mismatches = new Map<number, Mismatch>();
    const executor = {
      databaseUrl: db.url,
      lockTimeoutMs,
      onProgress: (event: ProgressEvent) => {
        timeline.executor(event);
        emit({ kind: 'executor', event });
      },
    };
    let lockRetries = 0;

    const enter = async (stage: RehearsalStage, weights: Weights, message: string) => {
      current = stage;
      emit({ kind: 'stage', stage, weights, message });
      await t.shift(stage, weights);
    };
    /** Run one stage's work under traffic for at least stepMs. */
    const during = async <T>(work: () => Promise<T>): Promise<T> => {
      const begun = performance.now();
      const result = await work();
      await sleep(Math.max(0, stepMs - (performance.now() - begun)));
      return result;
    };
    /** Pause the traffic (drained), compare the table and the reads so far with the ledger. */
    const check = async (label: string, newColumnsFilled: boolean) => {
      await t.shift('(checking)', PAUSED);
      const reads = t.takeReads();
      const readMismatches = await compareWrites(admin, shape, reads, (c) => `read by ${c.old ? 'v1' : 'v2/v3'} during ${label}`);
      const table = await checkTable(admin, shape, ledger, label, newColumnsFilled);
      const all = [...readMismatches, ...table.mismatches];
      for (const m of all) if (!mismatches.has(m.seq)) mismatches.set(m.seq, m);
      checks.push({ label, checked: table.checked + reads.length, mismatches: all });
      emit({ kind: 'check', label, checked: table.checked + reads.length, mismatches: all.length });
      return reads.length;
    };

    ticker = setInterval(() => emit({ kind: 'traffic', stats: t.currentStats() }), 250);
    let readsChecked = 0;

    current = 'baseline';
    emit({ kind: 'stage', stage: 'baseline', weights: { v1: 100 }, message: 'baseline: v1 serves all traffic on full_name' });
    t.start('baseline', { v1: 100 });
    await during(async () => undefined);
    readsChecked += await check('after baseline', false);

    await enter('expand', { v1: 100 }, 'expand: new columns and the sync trigger, while v1 writes');
    lockRetries += (await during(() => expand(spec, executor))).lockRetries;

    await enter('backfill', { v1: 100 }, 'backfill: keyset batches fill first_name/last_name, while v1 writes');
    const filled = await during(() => backfill(spec, { ...executor, batchSize: options.batchSize }));
    lockRetries += filled.lockRetries;
    const gate = await verify(spec, executor);
    emit({ kind: 'info', message: `verify after backfill: ${gate.message}` });
    readsChecked += await check('after backfill', true);

    let newCustomerId: string | undefined;
    for (const step of canarySteps('dual-write')) {
      await enter('dual-write', step.weights, `dual-write: v2 canary at ${step.share}%`);
      if (newCustomerId === undefined) {
        const vin = await stores.v2.create(NEW_CUSTOMER);
        newCustomerId = vin.id;
        ledger.record({ id: vin.id, version: 'v2', op: 'create', columns: stores.v2.columnsFor(NEW_CUSTOMER), stage: 'dual-write' });
        emit({ kind: 'info', message: `v2 created the talk's new customer ${NEW_CUSTOMER} (id ${vin.id})` });
      }
      await during(async () => undefined);
    }
    readsChecked += await check('after dual-write', true);

    for (const step of canarySteps('cleanup')) {
      await enter('cleanup', step.weights, `cleanup: v3 canary at ${step.share}%`);
      await during(async () => undefined);
    }
    readsChecked += await check('after cleanup', true);

    await enter('contract', { v3: 100 }, 'contract: verify, then drop full_name and the trigger, while v3 writes');
    const final = await verify(spec, executor);
    lockRetries += (await during(() => contract(spec, executor))).lockRetries;
    await t.stop();
    clearInterval(ticker);
    ticker = undefined;
    readsChecked += await check('after contract', true);

    const vin = newCustomerId === undefined ? undefined : await stores.v3.get(newCustomerId);
    const stages = stageReports(t.phases);
    const failedReads = stages.reduce((s, st) => s + st.failed_reads, 0);
    const allWriteMs = t.phases.flatMap((p) => p.writeMs);
    const lost = mismatches.size;
    return {
      ok: ledger.failed === 0 && failedReads === 0 && lost === 0 && gate.ok && final.ok,
      migration: spec.name,
      database: db.kind,
      rows,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      acknowledged_writes: ledger.acknowledged - seeded.length,
      failed_writes: ledger.failed,
      failed_reads: failedReads,
      lost_or_altered_writes: lost,
      reads_checked: readsChecked,
      stages,
      backfill_rows_per_s: Math.round(filled.rowsPerSecond),
      backfill: { rows: filled.rowsUpdated, batches: filled.batches, seconds: filled.seconds },
      lock_waits: {
        lock_timeout_ms: lockTimeoutMs,
        max_write_ms: Math.round(allWriteMs.reduce((m, v) => Math.max(m, v), 0) * 100) / 100,
        writes_slower_than_lock_timeout: t.phases.reduce((s, p) => s + p.slowWrites, 0),
        executor_lock_retries: lockRetries,
      },
      verify: { ok: gate.ok && final.ok, message: final.message },
      checks: checks.map((c) => ({ label: c.label, checked: c.checked, mismatches: c.mismatches.length })),
      new_customer: vin ? { name: NEW_CUSTOMER, id: vin.id, first_name: vin.columns.first_name ?? null, last_name: vin.columns.last_name ?? null } : null,
      app_role: appRole,
      failure_samples: ledger.failureSamples,
      mismatch_samples: [...mismatches.values()].slice(0, 10),
      timeline: timeline.build(t.phases, lockTimeoutMs),
    };
  } catch (err) {
    throw new RehearsalStoppedError(current, err);
  } finally {
    if (ticker) clearInterval(ticker);
    if (traffic) await traffic.stop().catch(() => undefined);
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
    await db.close(options.keep ?? false);
  }
}

/** The app's connection: as a DML-only role, unless the given user may not create roles. */
async function appConnection(db: RehearsalDatabase, table: string, emit: (e: RehearsalEvent) => void): Promise<{ appUrl: string; appRole: string }> {
  const role = await db.createAppRole((name) => createAppRole(db.pool, name, table));
  if (role) return { appUrl: urlAs(db.url, role), appRole: role.name };
  emit({ kind: 'info', message: 'the database user may not create roles: the app traffic runs as that user instead of a DML-only role' });
  return { appUrl: db.url, appRole: new URL(db.url).username || '(default user)' };
}

function openStores(appUrl: string, workers: number, pools: Pool[]): { stores: Record<AppVersion, CustomerStore>; versionPools: Record<AppVersion, Pool> } {
  const open = () => {
    // One pool per version, as each version runs in its own pods.
    const pool = new Pool({ connectionString: appUrl, max: workers + 1 });
    pool.on('error', () => undefined);
    pools.push(pool);
    return pool;
  };
  const versionPools = { v1: open(), v2: open(), v3: open() };
  return { stores: { v1: createStore('v1', versionPools.v1), v2: createStore('v2', versionPools.v2), v3: createStore('v3', versionPools.v3) }, versionPools };
}
