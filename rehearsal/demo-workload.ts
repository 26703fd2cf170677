import { Pool } from 'pg';
import { CustomerStore } from '../app/customer-store';
import { NEW_CUSTOMER } from '../app/seed-data';
import { createStore } from '../app/versions';
import { AppVersion, Stage } from '../phases/deploy/stages';
import { MigrationSpec } from '../phases/sql/spec';
import { britishNames } from './british-names';
import { CheckReport, checkTable, compareWrites, Mismatch } from './consistency-check';
import { createAppRole, customersTableSql, seedCustomers, urlAs } from './demo-database';
import { DemoShape, demoShapeOf } from './demo-shape';
import { RehearsalDatabase } from './rehearsal-database';
import { RehearsalReport } from './rehearsal-report';
import { CheckOptions, CommonReport, Emit, RehearsalOptions, SetupContext, StageRun, Workload, WorkloadSetup } from './run-rehearsal';
import { PAUSED, TrafficGenerator } from './traffic';
import { WriteLedger } from './write-ledger';

/** The demo: the talk's customers table, its names, and the demo app's own v1/v2/v3 data layers as the traffic. */
export function demoWorkload(spec: MigrationSpec, options: RehearsalOptions): WorkloadSetup {
  return { emptyDatabase: false, passSetupErrors: false, prepare: (ctx) => prepareDemo(spec, options, ctx) };
}

async function prepareDemo(spec: MigrationSpec, options: RehearsalOptions, { db, emit, onClose }: SetupContext): Promise<Workload> {
  const shape = demoShapeOf(spec);
  const rows = options.rows ?? 10000;
  const pools: Pool[] = [];
  onClose(() => Promise.all(pools.map((p) => p.end().catch(() => undefined))));
  await db.pool.query(customersTableSql(shape.table));
  const seeded = await seedCustomers(db.pool, rows, britishNames(options.seed ?? 1), shape.table);
  emit({ kind: 'info', message: `seeded ${seeded.length} customers (${rows} generated + the talk's names)` });
  const { appUrl, appRole } = await appConnection(db, shape.table, emit);
  const { stores, versionPools } = openStores(appUrl, options.workers ?? 8, pools);
  const ledger = new WriteLedger();
  for (const s of seeded) ledger.record({ id: s.id, version: 'v1', op: 'seed', columns: { full_name: s.name }, stage: 'baseline' });
  const traffic = new TrafficGenerator({
    stores,
    ledger,
    names: britishNames((options.seed ?? 1) + 1),
    ids: seeded.map((s) => s.id),
    pools: versionPools,
    workers: options.workers,
    opsPerSecond: options.opsPerSecond,
    slowWriteMs: options.lockTimeoutMs ?? 1000,
  });
  return new DemoWorkload({ db, emit, shape, stores, ledger, traffic, rows, seeded: seeded.length, appRole });
}

interface DemoState {
  readonly db: RehearsalDatabase;
  readonly emit: Emit;
  readonly shape: DemoShape;
  readonly stores: Record<AppVersion, CustomerStore>;
  readonly ledger: WriteLedger;
  readonly traffic: TrafficGenerator;
  readonly rows: number;
  readonly seeded: number;
  readonly appRole: string;
}

class DemoWorkload implements Workload {
  readonly traffic: TrafficGenerator;
  readonly oldColumns = 'full_name';
  readonly newColumns = 'first_name/last_name';
  readonly verifyFailureIsFinding = false;
  private readonly checks: CheckReport[] = [];
  private readonly mismatches = new Map<number, Mismatch>();
  private readsChecked = 0;
  private newCustomerId: string | undefined;

  constructor(private readonly s: DemoState) {
    this.traffic = s.traffic;
  }

  /** At the first v2 canary step, v2 creates the talk's new customer. */
  async atCanaryStep(stage: Stage): Promise<void> {
    if (stage !== 'dual-write' || this.newCustomerId !== undefined) return;
    const vin = await this.s.stores.v2.create(NEW_CUSTOMER);
    this.newCustomerId = vin.id;
    this.s.ledger.record({ id: vin.id, version: 'v2', op: 'create', columns: this.s.stores.v2.columnsFor(NEW_CUSTOMER), stage: 'dual-write' });
    this.s.emit({ kind: 'info', message: `v2 created the talk's new customer ${NEW_CUSTOMER} (id ${vin.id})` });
  }

  async check(label: string, options: CheckOptions): Promise<void> {
    const t = this.traffic;
    await t.shift('(checking)', PAUSED);
    const reads = t.takeReads();
    const readMismatches = await compareWrites(this.s.db.pool, this.s.shape, reads, (c) => `read by ${c.old ? 'v1' : 'v2/v3'} during ${label}`);
    const table = await checkTable(this.s.db.pool, this.s.shape, this.s.ledger, label, options.newColumnsFilled);
    const all = [...readMismatches, ...table.mismatches];
    for (const m of all) if (!this.mismatches.has(m.seq)) this.mismatches.set(m.seq, m);
    this.checks.push({ label, checked: table.checked + reads.length, mismatches: all });
    this.s.emit({ kind: 'check', label, checked: table.checked + reads.length, mismatches: all.length });
    this.readsChecked += reads.length;
  }

  async report(run: StageRun, c: CommonReport): Promise<RehearsalReport> {
    const { ledger } = this.s;
    const vin = this.newCustomerId === undefined ? undefined : await this.s.stores.v3.get(this.newCustomerId);
    const lost = this.mismatches.size;
    return {
      ok: ledger.failed === 0 && c.failed_reads === 0 && lost === 0 && run.gate.ok && run.final.ok,
      migration: c.migration,
      database: c.database,
      rows: this.s.rows,
      seconds: c.seconds,
      acknowledged_writes: ledger.acknowledged - this.s.seeded,
      failed_writes: ledger.failed,
      failed_reads: c.failed_reads,
      lost_or_altered_writes: lost,
      reads_checked: this.readsChecked,
      stages: c.stages,
      backfill_rows_per_s: c.backfill_rows_per_s,
      backfill: c.backfill,
      lock_waits: c.lock_waits,
      verify: c.verify,
      checks: this.checks.map((k) => ({ label: k.label, checked: k.checked, mismatches: k.mismatches.length })),
      new_customer: vin ? { name: NEW_CUSTOMER, id: vin.id, first_name: vin.columns.first_name ?? null, last_name: vin.columns.last_name ?? null } : null,
      app_role: this.s.appRole,
      failure_samples: ledger.failureSamples,
      mismatch_samples: [...this.mismatches.values()].slice(0, 10),
      timeline: c.timeline,
    };
  }
}

/** The app's connection: as a DML-only role, unless the given user may not create roles. */
async function appConnection(db: RehearsalDatabase, table: string, emit: Emit): Promise<{ appUrl: string; appRole: string }> {
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
