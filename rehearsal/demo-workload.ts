import { Pool } from 'pg';
import { CustomerStore } from '../app/customer-store';
import { NEW_CUSTOMER } from '../app/seed-data';
import { createStore } from '../app/versions';
import { AppVersion, Stage } from '../phases/deploy/stages';
import { MigrationSpec } from '../phases/sql/spec';
import { britishNames, NameSource, randomSource } from './british-names';
import { DemoLedger, rowOf } from './demo-ledger';
import { createAppRole, customersTableSql, seedCustomers, urlAs } from './demo-database';
import { demoShapeOf } from './demo-shape';
import { GenericState, GenericWorkload } from './generic-workload';
import { RehearsalDatabase } from './rehearsal-database';
import { RehearsalReport } from './rehearsal-report';
import { MappingPool } from './round-trip';
import { RowLedger } from './row-ledger';
import { readAllRows } from './row-seeder';
import { CommonReport, Emit, RehearsalOptions, SetupContext, StageRun, Workload, WorkloadSetup } from './run-rehearsal';
import { analyseSpec, resolveMappings } from './spec-analysis';
import { loadTableModel, TableModel } from './table-model';
import { TrafficGenerator } from './traffic';

/**
 * The demo: the talk's customers table, its names, and the demo app's own v1/v2/v3 data layers as
 * the traffic; its writes go to the same ledger, and are held to the same checks, as any spec's.
 */
export function demoWorkload(spec: MigrationSpec, options: RehearsalOptions): WorkloadSetup {
  return { emptyDatabase: false, passSetupErrors: false, prepare: (ctx) => prepareDemo(spec, options, ctx) };
}

async function prepareDemo(spec: MigrationSpec, options: RehearsalOptions, ctx: SetupContext): Promise<Workload> {
  const { db, emit } = ctx;
  const shape = demoShapeOf(spec);
  const rows = options.rows ?? 10000;
  await db.pool.query(customersTableSql(shape.table));
  const seeded = await seedCustomers(db.pool, rows, britishNames(options.seed ?? 1), shape.table);
  emit({ kind: 'info', message: `seeded ${seeded.length} customers (${rows} generated + the talk's names)` });
  const model = (await loadTableModel(db.pool, undefined, shape.table)) as TableModel;
  const seeds = await readAllRows(
    db.pool,
    model,
    model.columns.map((c) => c.name),
  );
  // The spec's up and down on every seeded name: what the checker expects of each side, and the round trips.
  const analysis = await analyseSpec(
    model,
    await resolveMappings(spec, db.url),
    seeds,
    randomSource(options.seed ?? 1),
    ctx,
  );
  const pool = analysis.mappingPools[0];
  const ledger = new DemoLedger(new RowLedger(), pool);
  for (const s of seeded)
    ledger.record({ id: s.id, version: 'v1', op: 'seed', columns: { full_name: s.name }, stage: 'baseline' });
  const app = await appConnection(db, shape.table, emit);
  const { stores, versionPools } = openStores(app.url, options.workers ?? 8, ctx);
  const traffic = new TrafficGenerator({
    stores,
    ledger,
    names: poolNames(pool, randomSource((options.seed ?? 1) + 1)),
    ids: seeded.map((s) => s.id),
    pools: versionPools,
    workers: options.workers,
    opsPerSecond: options.opsPerSecond,
    slowWriteMs: options.lockTimeoutMs ?? 1000,
  });
  const state: GenericState = {
    db,
    emit,
    schema: { source: 'demo', table: shape.table, tables: [], rows: 'generated' },
    model,
    ...analysis,
    seedRows: seeds.length,
    rows,
    // email: no version of the demo app writes or reads it.
    untouched: [],
    ledger: ledger.rows,
    seedCount: ledger.rows.acknowledged,
    appPools: versionPools,
    appRole: app.role,
    traffic,
    takeReads: () =>
      traffic.takeReads().map((c) => ({
        write: c.write,
        version: c.reader,
        actual: rowOf(c.actual),
        sides: { old: c.old, new: c.new },
      })),
    verifyFailureIsFinding: false,
  };
  return new DemoWorkload(state, stores, ledger);
}

/** Names the demo traffic writes: the seeded ones, on which the spec's up and down were evaluated. */
function poolNames(pool: MappingPool, random: () => number): NameSource {
  const names = pool.entries.flatMap((e) => (e.source === 'old' && e.raw?.full_name ? [e.raw.full_name] : []));
  return () => names[Math.floor(random() * names.length)];
}

/** The generic workload's checks and report, the talk's new customer (created by v2 at the first canary step) on top. */
class DemoWorkload extends GenericWorkload {
  private newCustomerId: string | undefined;

  constructor(
    state: GenericState,
    private readonly stores: Record<AppVersion, CustomerStore>,
    private readonly ledger: DemoLedger,
  ) {
    super(state);
  }

  async atCanaryStep(stage: Stage): Promise<void> {
    if (stage !== 'dual-write' || this.newCustomerId !== undefined) return;
    const vin = await this.stores.v2.create(NEW_CUSTOMER);
    this.newCustomerId = vin.id;
    this.ledger.record({
      id: vin.id,
      version: 'v2',
      op: 'create',
      columns: this.stores.v2.columnsFor(NEW_CUSTOMER),
      stage: 'dual-write',
    });
    this.s.emit({ kind: 'info', message: `v2 created the talk's new customer ${NEW_CUSTOMER} (id ${vin.id})` });
  }

  async report(run: StageRun, common: CommonReport): Promise<RehearsalReport> {
    const report = await super.report(run, common);
    const vin = this.newCustomerId === undefined ? undefined : await this.stores.v3.get(this.newCustomerId);
    return {
      ...report,
      new_customer: vin
        ? {
            name: NEW_CUSTOMER,
            id: vin.id,
            first_name: vin.columns.first_name ?? null,
            last_name: vin.columns.last_name ?? null,
          }
        : null,
    };
  }
}

/** The app's connection: as a DML-only role, unless the given user may not create roles. */
async function appConnection(db: RehearsalDatabase, table: string, emit: Emit): Promise<{ url: string; role: string }> {
  const role = await db.createAppRole((name) => createAppRole(db.pool, name, table));
  if (role) return { url: urlAs(db.url, role), role: role.name };
  emit({
    kind: 'info',
    message: 'the database user may not create roles: the app traffic runs as that user instead of a DML-only role',
  });
  return { url: db.url, role: new URL(db.url).username || '(default user)' };
}

function openStores(
  appUrl: string,
  workers: number,
  { onClose }: SetupContext,
): { stores: Record<AppVersion, CustomerStore>; versionPools: Record<AppVersion, Pool> } {
  const open = () => {
    // One pool per version, as each version runs in its own pods.
    const pool = new Pool({ connectionString: appUrl, max: workers + 1 });
    pool.on('error', () => undefined);
    onClose(() => pool.end().catch(() => undefined));
    return pool;
  };
  const versionPools = { v1: open(), v2: open(), v3: open() };
  return {
    stores: {
      v1: createStore('v1', versionPools.v1),
      v2: createStore('v2', versionPools.v2),
      v3: createStore('v3', versionPools.v3),
    },
    versionPools,
  };
}
