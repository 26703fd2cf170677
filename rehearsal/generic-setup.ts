import { randomBytes } from 'crypto';
import * as fs from 'fs';
import { Pool } from 'pg';
import { Queryable } from '../app/customer-store';
import { AppVersion } from '../phases/deploy/stages';
import { CatalogError, UsageError } from '../phases/errors';
import { quoteIdent, quoteLiteral } from '../phases/sql/identifiers';
import { operationOf } from '../phases/sql/operations';
import { MigrationSpec } from '../phases/sql/spec';
import { randomSource } from './british-names';
import { RowRule } from './constraint-values';
import { ExpressionEvaluator, Row } from './expression-evaluator';
import { GenericTraffic, insertableColumns, validRows } from './generic-traffic';
import { GenericState, GenericWorkload } from './generic-workload';
import { inferredSchemaSql } from './inferred-schema';
import { psqlScript } from './pg-tools';
import { SchemaSummary } from './rehearsal-report';
import { MappingPool, pick, rawKey } from './round-trip';
import { RowLedger } from './row-ledger';
import { readAllRows, resetSequences, RowGenerator, seedTable } from './row-seeder';
import { RehearsalOptions, SetupContext, WorkloadSetup } from './run-rehearsal';
import { analyseSpec, resolveMappings } from './spec-analysis';
import { copySample, copySchema, SourceTables } from './schema-copy';
import { specBreakingRows } from './spec-breaking-rows';
import { loadTableModel, TableModel } from './table-model';
import { errorCode, errorMessage } from '../phases/error-fields';

/** Where the generic rehearsal takes the table from; none of them: a table inferred from the spec. */
export interface SchemaOptions {
  /** A SQL file that creates the table (and what it needs) on the scratch server. */
  readonly schemaFile?: string;
  /** The user's database: the table's definition is copied from it, read-only. */
  readonly schemaFrom?: string;
  /** With schemaFrom: copy this many real rows instead of generating them. */
  readonly sample?: number;
  /**
   * Percent of the old version's inserts that write a row breaking a CHECK the spec adds (default 0):
   * the old app still may; verify must report it before contract, as a finding about the spec or the app.
   */
  readonly breakChecks?: number;
}

type GenericOptions = RehearsalOptions & SchemaOptions;

/**
 * Any spec on a table of the user's shape: the table from --schema-from (copied read-only),
 * --schema FILE, or inferred from the spec; rows copied (--sample) or generated; app traffic
 * derived from the spec's column mappings; checks of every acknowledged write; the spec's up and
 * down tried on realistic values and variations. Bad schema options are refused here, before any
 * database is opened.
 */
export function genericWorkload(spec: MigrationSpec, options: GenericOptions): WorkloadSetup {
  if (options.sample !== undefined && !options.schemaFrom)
    throw new UsageError('--sample copies rows from the database given with --schema-from');
  if (options.schemaFile && options.schemaFrom)
    throw new UsageError('give either --schema FILE or --schema-from URL, not both');
  if (options.breakChecks && !specCheckRules(spec).length)
    throw new UsageError('--break-checks: the spec adds no CHECK (add_check), so no old-version write can break one');
  const schemaSql = readSchemaFile(options.schemaFile);
  return {
    emptyDatabase: true,
    passSetupErrors: true,
    prepare: (ctx) => prepareGeneric(spec, options, schemaSql, ctx),
  };
}

function readSchemaFile(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--schema ${file} cannot be read (${errorCode(err) ?? errorMessage(err)})`);
  }
}

/** The table, its rows, the spec's expressions tried on them, the app's connections, the ledger and the traffic. */
async function prepareGeneric(
  spec: MigrationSpec,
  options: GenericOptions,
  schemaSql: string | undefined,
  ctx: SetupContext,
): Promise<GenericWorkload> {
  const random = randomSource(options.seed ?? 1);
  const { schema, copied } = await createTable(spec, options, schemaSql, ctx);
  const model = await loadSpecTable(spec, options, ctx);
  const mappings = await resolveMappings(spec, ctx.db.url);
  const rows = await fillRows(spec, options, model, copied, random, ctx);
  const analysis = await analyseSpec(model, mappings, rows.seeds, random, ctx);
  const app = await openAppPools(model, options.workers ?? 8, ctx);
  const touched = new Set(analysis.mappingPools.flatMap((p) => [...p.oldColumns, ...p.newColumns]));
  const untouched = model.columns.map((c) => c.name).filter((c) => !touched.has(c));
  const ledger = new RowLedger();
  recordSeeds(ledger, model, rows.seeds, analysis.mappingPools, untouched);
  const seedCount = ledger.acknowledged;
  const rowPool = await validRows(
    analysis.evaluator,
    rows.rules,
    rows.generator,
    insertableColumns(model, analysis.mappingPools),
    500,
  );
  const breaking = await breakingWrites(options, analysis.evaluator, rows.rules, model, rowPool, random, ctx);
  const traffic = new GenericTraffic({
    rowPool,
    breaking,
    pools: app.pools,
    model,
    mappings: analysis.mappingPools,
    ledger,
    generator: rows.generator,
    keys: rows.seeds.map(keyOf(model)),
    workers: options.workers ?? 8,
    opsPerSecond: options.opsPerSecond,
    random,
    slowWriteMs: options.lockTimeoutMs ?? 1000,
  });
  const state: GenericState = {
    db: ctx.db,
    emit: ctx.emit,
    schema,
    model,
    ...analysis,
    seedRows: rows.seeds.length,
    rows: rows.seeds.length,
    untouched,
    ledger,
    seedCount,
    appPools: app.pools,
    appRole: app.role,
    traffic,
    takeReads: () => traffic.takeReads(),
    verifyFailureIsFinding: true,
    specBreakingWrites: breaking ? () => traffic.specBreakingWrites : undefined,
  };
  return new GenericWorkload(state);
}

/** With --break-checks: rows that break the CHECKs the spec adds, for that share of the old version's inserts. */
async function breakingWrites(
  options: GenericOptions,
  evaluator: ExpressionEvaluator,
  rules: readonly RowRule[],
  model: TableModel,
  pool: readonly Row[],
  random: () => number,
  { emit }: SetupContext,
) {
  if (!options.breakChecks) return undefined;
  const rows = await specBreakingRows(evaluator, rules, model, pool, random);
  const checks =
    rules
      .filter((r) => r.kind === 'spec')
      .map((r) => r.name)
      .join(', ') || 'none';
  if (!rows.length)
    throw new UsageError(
      `--break-checks: the spec adds no CHECK on columns the old version writes (its CHECKs: ${checks}), so no old-version write can break one`,
    );
  emit({
    kind: 'info',
    message: `--break-checks ${options.breakChecks}: that share of v1's inserts write rows that break the spec's CHECKs (${checks}); verify must report them before contract`,
  });
  return { rows, share: Math.min(100, options.breakChecks) / 100 };
}

/** Create the table on the scratch database: copied from --schema-from, run from --schema FILE, or inferred from the spec. */
async function createTable(
  spec: MigrationSpec,
  options: GenericOptions,
  schemaSql: string | undefined,
  { db, emit }: SetupContext,
): Promise<{ schema: SchemaSummary; copied?: SourceTables }> {
  const tableName = qualifiedName(spec);
  if (options.schemaFrom) {
    const copied = await copySchema(options.schemaFrom, db.url, spec);
    const schema: SchemaSummary = {
      source: 'database',
      table: tableName,
      tables: copied.tables.slice(1).map((t) => `${t.schema}.${t.name}`),
      rows: options.sample !== undefined ? 'sample' : 'generated',
    };
    emit({
      kind: 'info',
      message: `copied the definition of ${tableName}${schema.tables.length ? ` and ${schema.tables.join(', ')}` : ''} from the given database (read-only)`,
    });
    return { schema, copied };
  }
  if (schemaSql !== undefined) {
    psqlScript(db.url, schemaSql, `running --schema ${options.schemaFile}`);
    return { schema: { source: 'file', table: tableName, tables: [], rows: 'generated' } };
  }
  await db.pool.query(await inferredSchemaSql(db.pool, spec));
  emit({
    kind: 'info',
    message: `no schema given: inferred a table ${tableName} with the columns the spec names (give --schema FILE or --schema-from URL for your own)`,
  });
  return { schema: { source: 'inferred', table: tableName, tables: [], rows: 'generated' } };
}

function qualifiedName(spec: MigrationSpec): string {
  return `${spec.schema ? spec.schema + '.' : ''}${spec.table}`;
}

/** The spec's table as created, with the unique column sets the spec adds. */
async function loadSpecTable(spec: MigrationSpec, options: GenericOptions, { db }: SetupContext): Promise<TableModel> {
  const loaded = await loadTableModel(db.pool, spec.schema, spec.table);
  if (!loaded)
    throw new CatalogError(
      'table',
      qualifiedName(spec),
      `the schema ${options.schemaFile ? 'in ' + options.schemaFile : 'given'} has no table ${qualifiedName(spec)}`,
    );
  return withSpecUniques(loaded, spec);
}

interface FilledRows {
  readonly generator: RowGenerator;
  readonly rules: readonly RowRule[];
  /** Every row of the table, all columns. */
  readonly seeds: Row[];
}

/** Rows: copied from the user's database, or generated to fit the types and constraints. */
async function fillRows(
  spec: MigrationSpec,
  options: GenericOptions,
  model: TableModel,
  copied: SourceTables | undefined,
  random: () => number,
  { db, emit }: SetupContext,
): Promise<FilledRows> {
  const tableName = qualifiedName(spec);
  const rowsWanted = options.rows ?? 10000;
  const specChecks = specCheckRules(spec);
  let seeded;
  if (options.schemaFrom && options.sample !== undefined) {
    const n = await copySample(options.schemaFrom, db.url, copied!, options.sample);
    for (const t of copied!.tables) {
      const m = await loadTableModel(db.pool, t.schema, t.name);
      if (m) await resetSequences(db.pool, m);
    }
    emit({ kind: 'info', message: `copied ${n} real rows of ${tableName} (and the rows they reference)` });
    seeded = await seedTable(db.pool, model, 0, 0, random, { specChecks });
  } else {
    seeded = await seedTable(
      db.pool,
      model,
      rowsWanted,
      Math.max(10, Math.min(200, Math.ceil(rowsWanted / 10))),
      random,
      { specChecks },
    );
    const short =
      seeded.inserted < rowsWanted
        ? ` (of ${rowsWanted} asked for: its unique indexes and constraints admit no more of the values generated)`
        : '';
    emit({
      kind: 'info',
      message: `generated ${seeded.inserted} rows of ${tableName}${short}${seeded.rejected ? `; ${seeded.rejected} generated rows were refused by the schema and replaced` : ''}`,
    });
  }
  const seeds = await readAllRows(
    db.pool,
    model,
    model.columns.map((c) => c.name),
  );
  if (seeds.length === 0)
    throw new UsageError(
      `the rehearsal has no rows of ${tableName} to work with: give --rows N (at least 1) or --sample N on a table with rows`,
    );
  return { generator: seeded.generator, rules: seeded.rules, seeds };
}

/** The app's connections: a DML-only role (unless the user may not create roles), one pool per version. */
async function openAppPools(
  model: TableModel,
  workers: number,
  { db, emit, onClose }: SetupContext,
): Promise<{ pools: Record<AppVersion, Pool>; role: string }> {
  const role = await db.createAppRole(async (name) => ({ name, password: await createAppRole(db.pool, name, model) }));
  if (!role)
    emit({
      kind: 'info',
      message: 'the database user may not create roles: the app traffic runs as that user instead of a DML-only role',
    });
  let appUrl = db.url;
  if (role) {
    const u = new URL(db.url);
    u.username = role.name;
    u.password = role.password;
    appUrl = u.toString();
  }
  const open = (): Pool => {
    const p = new Pool({ connectionString: appUrl, max: workers + 1 });
    p.on('error', () => undefined);
    onClose(() => p.end());
    return p;
  };
  return {
    pools: { v1: open(), v2: open(), v3: open() },
    role: role?.name ?? (new URL(db.url).username || '(default user)'),
  };
}

async function createAppRole(db: Queryable, name: string, model: TableModel): Promise<string> {
  const password = randomBytes(18).toString('base64url');
  const role = quoteIdent(name);
  await db.query(`CREATE ROLE ${role} LOGIN PASSWORD ${quoteLiteral(password)} NOSUPERUSER NOCREATEDB NOCREATEROLE`);
  await db.query(`DO $g$ DECLARE s text; BEGIN
      FOR s IN SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' LOOP
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', s, ${quoteLiteral(name)});
        EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I', s, ${quoteLiteral(name)});
      END LOOP; END $g$`);
  await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${model.qualified} TO ${role}`);
  // The roles the table's policies name: the app acts as a member of them, as the user's app would.
  const { rows } = await db.query(
    `SELECT DISTINCT r.rolname FROM pg_policy p JOIN pg_roles r ON r.oid = ANY(p.polroles) WHERE p.polrelid = $1`,
    [model.oid],
  );
  for (const r of rows) await db.query(`GRANT ${quoteIdent(r.rolname)} TO ${role}`);
  return password;
}

const keyOf = (model: TableModel) => (r: Row) => JSON.stringify(model.primaryKey.map((c) => r[c] ?? null));

/** The table's rows as v1's seed writes in the ledger, with what each mapping derives from them. */
function recordSeeds(
  ledger: RowLedger,
  model: TableModel,
  seeds: readonly Row[],
  mappingPools: readonly MappingPool[],
  untouched: readonly string[],
): void {
  const key = keyOf(model);
  for (const r of seeds) {
    ledger.record({
      key: key(r),
      version: 'v1',
      op: 'seed',
      stage: 'baseline',
      deleted: false,
      untouched: pick(r, untouched),
      mappings: mappingPools.map((p) => {
        const raw = pick(r, p.oldColumns);
        const entry = p.byRaw.get(rawKey(raw, p.oldColumns));
        return { old: raw, new: entry?.new, oldExact: true, newExact: false, entry };
      }),
    });
  }
}

/** The CHECKs the spec adds (add_check): the rows and the traffic a rehearsal makes up keep them. */
function specCheckRules(spec: MigrationSpec): { name: string; check: string }[] {
  return spec.operations.flatMap((o) => operationOf(o.kind).rules?.(o.body).checks ?? []);
}

/** The unique column sets the spec adds (add_unique): generated rows and the app's writes keep them as the new version will. */
function withSpecUniques(model: TableModel, spec: MigrationSpec): TableModel {
  const added = spec.operations.flatMap((o) => operationOf(o.kind).rules?.(o.body).uniques ?? []);
  return added.length ? { ...model, uniques: [...model.uniques, ...added] } : model;
}
