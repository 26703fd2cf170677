import { RehearsalStoppedError } from './rehearsal-errors';
import { randomBytes } from 'crypto';
import { evaluationStartupOptions } from '../phases/sql/plans/evaluation-settings';
import * as fs from 'fs';
import { performance } from 'perf_hooks';
import { Client, Pool } from 'pg';
import { Queryable } from '../app/customer-store';
import { backfill, contract, expand, ProgressEvent, verify } from '../executor';
import { loadTable } from '../executor/catalog';
import { AppVersion } from '../phases/deploy/stages';
import { CatalogError, UsageError } from '../phases/errors';
import { quoteIdent, quoteLiteral } from '../phases/sql/identifiers';
import { ColumnMapping } from '../phases/sql/operations';
import { MigrationSpec, resolveSpec } from '../phases/sql/spec';
import { randomSource } from './british-names';
import { ExpressionEvaluator, Row } from './expression-evaluator';
import { checkGenericTable, compareObservations, GenericMismatch, View } from './generic-check';
import { GenericTraffic, insertableColumns, sidesOf, validRows } from './generic-traffic';
import { inferredSchemaSql } from './inferred-schema';
import { psqlScript } from './pg-tools';
import { openRehearsalDatabase } from './rehearsal-database';
import { RehearsalReport, RehearsalStage, RoundTripSummary, SchemaSummary, stageReports } from './rehearsal-report';
import { analyseRoundTrips, describeExample, MappingPool, pick, rawKey } from './round-trip';
import { RowLedger } from './row-ledger';
import { readAllRows, resetSequences, seedTable } from './row-seeder';
import { copySample, copySchema } from './schema-copy';
import { loadTableModel, ModelColumn, TableModel } from './table-model';
import { canarySteps } from './stage-script';
import { TimelineRecorder } from './timeline';
import { PAUSED, Weights } from './phased-traffic';
import type { RehearsalEvent, RehearsalOptions } from './rehearse';

/** Where the generic rehearsal takes the table from; none of them: a table inferred from the spec. */
export interface SchemaOptions {
  /** A SQL file that creates the table (and what it needs) on the scratch server. */
  readonly schemaFile?: string;
  /** The user's database: the table's definition is copied from it, read-only. */
  readonly schemaFrom?: string;
  /** With schemaFrom: copy this many real rows instead of generating them. */
  readonly sample?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
  const { rows } = await db.query(`SELECT DISTINCT r.rolname FROM pg_policy p JOIN pg_roles r ON r.oid = ANY(p.polroles) WHERE p.polrelid = $1`, [model.oid]);
  for (const r of rows) await db.query(`GRANT ${quoteIdent(r.rolname)} TO ${role}`);
  return password;
}

/** The CHECKs the spec adds (add_check): the rows and the traffic a rehearsal makes up keep them. */
function specCheckRules(spec: MigrationSpec): { name: string; check: string }[] {
  return spec.operations.filter((o) => o.kind === 'add_check').map((o) => o.body as { name: string; check: string });
}

/** The unique column sets the spec adds (add_unique): generated rows and the app's writes keep them as the new version will. */
function withSpecUniques(model: TableModel, spec: MigrationSpec): TableModel {
  const added = spec.operations.filter((o) => o.kind === 'add_unique').map((o) => (o.body as { columns: string[] }).columns);
  return added.length ? { ...model, uniques: [...model.uniques, ...added] } : model;
}

/** The new columns as the value generator sees them (their types read from a probe table). */
function modelOfNew(mapping: ColumnMapping, probe: TableModel): ModelColumn[] {
  return mapping.newColumns.map((n) => ({ ...probe.columns.find((x) => x.name === n.name)!, notNull: n.notNull }));
}

/**
 * Rehearse any spec on a table of the user's shape, on a throwaway PostgreSQL: the table from
 * --schema-from (copied read-only), --schema FILE, or inferred from the spec; rows copied
 * (--sample) or generated; app traffic derived from the spec's column mappings; checks of every
 * acknowledged write; the spec's up and down tried on realistic values and variations.
 */
export async function rehearseGeneric(spec: MigrationSpec, options: RehearsalOptions & SchemaOptions): Promise<RehearsalReport> {
  if (options.sample !== undefined && !options.schemaFrom) throw new UsageError('--sample copies rows from the database given with --schema-from');
  if (options.schemaFile && options.schemaFrom) throw new UsageError('give either --schema FILE or --schema-from URL, not both');
  let schemaSql: string | undefined;
  if (options.schemaFile) {
    try {
      schemaSql = fs.readFileSync(options.schemaFile, 'utf8');
    } catch (err: any) {
      throw new UsageError(`--schema ${options.schemaFile} cannot be read (${err?.code ?? err?.message})`);
    }
  }
  const emit = options.onEvent ?? (() => undefined);
  const rowsWanted = options.rows ?? 10000;
  const stepMs = options.stepMs ?? 1500;
  const lockTimeoutMs = options.lockTimeoutMs ?? 1000;
  const random = randomSource(options.seed ?? 1);
  const started = performance.now();
  const timeline = new TimelineRecorder();

  const db = await openRehearsalDatabase(spec, options.databaseUrl, emit, { empty: true });
  const pools: Pool[] = [];
  let evalClient: Client | undefined;
  let traffic: GenericTraffic | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let current = 'setup';
  try {
    const admin = db.pool;
    const tableName = `${spec.schema ? spec.schema + '.' : ''}${spec.table}`;
    let schema: SchemaSummary;
    let copied: { tables: readonly { schema: string; name: string }[] } | undefined;
    if (options.schemaFrom) {
      copied = await copySchema(options.schemaFrom, db.url, spec);
      schema = { source: 'database', table: tableName, tables: copied.tables.slice(1).map((t) => `${t.schema}.${t.name}`), rows: options.sample !== undefined ? 'sample' : 'generated' };
      emit({ kind: 'info', message: `copied the definition of ${tableName}${schema.tables.length ? ` and ${schema.tables.join(', ')}` : ''} from the given database (read-only)` });
    } else if (schemaSql !== undefined) {
      psqlScript(db.url, schemaSql, `running --schema ${options.schemaFile}`);
      schema = { source: 'file', table: tableName, tables: [], rows: 'generated' };
    } else {
      await admin.query(await inferredSchemaSql(admin, spec));
      schema = { source: 'inferred', table: tableName, tables: [], rows: 'generated' };
      emit({ kind: 'info', message: `no schema given: inferred a table ${tableName} with the columns the spec names (give --schema FILE or --schema-from URL for your own)` });
    }
    const loaded = await loadTableModel(admin, spec.schema, spec.table);
    if (!loaded) throw new CatalogError('table', tableName, `the schema ${options.schemaFile ? 'in ' + options.schemaFile : 'given'} has no table ${tableName}`);
    const model = withSpecUniques(loaded, spec);
    const mappings = await (async () => {
      const client = new Client({ connectionString: db.url });
      await client.connect();
      try {
        return resolveSpec(spec, await loadTable(client, spec)).mappings;
      } finally {
        await client.end();
      }
    })();

    // Rows: copied from the user's database, or generated to fit the types and constraints.

    let generator;
    let rules;
    const specChecks = specCheckRules(spec);
    if (options.schemaFrom && options.sample !== undefined) {
      const n = await copySample(options.schemaFrom, db.url, copied as any, options.sample);
      for (const t of copied!.tables) {
        const m = await loadTableModel(admin, t.schema, t.name);
        if (m) await resetSequences(admin, m);
      }
      emit({ kind: 'info', message: `copied ${n} real rows of ${tableName} (and the rows they reference)` });
      ({ generator, rules } = await seedTable(admin, model, 0, 0, random, { specChecks }));
    } else {
      const seeded = await seedTable(admin, model, rowsWanted, Math.max(10, Math.min(200, Math.ceil(rowsWanted / 10))), random, { specChecks });
      ({ generator, rules } = seeded);
      const short = seeded.inserted < rowsWanted ? ` (of ${rowsWanted} asked for: its unique indexes and constraints admit no more of the values generated)` : '';
      emit({ kind: 'info', message: `generated ${seeded.inserted} rows of ${tableName}${short}${seeded.rejected ? `; ${seeded.rejected} generated rows were refused by the schema and replaced` : ''}` });
    }
    const allColumns = model.columns.map((c) => c.name);
    const seeds = await readAllRows(admin, model, allColumns);
    if (seeds.length === 0) throw new UsageError(`the rehearsal has no rows of ${tableName} to work with: give --rows N (at least 1) or --sample N on a table with rows`);

    // The spec's expressions on realistic values and on variations within the new types.
    // Under the settings the trigger and the backfill evaluate with (TimeZone UTC, DateStyle ISO, ...).
    evalClient = new Client({ connectionString: db.url, options: evaluationStartupOptions() });
    evalClient.on('error', () => undefined);
    await evalClient.connect();
    const newCols = mappings.flatMap((m) => m.newColumns);
    let probe: TableModel | undefined;
    if (newCols.length) {
      await evalClient.query(`CREATE TEMP TABLE _tandem_rehearsal_new (${newCols.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`);
      probe = await loadTableModel(evalClient, undefined, '_tandem_rehearsal_new');
    }
    const evaluator = new ExpressionEvaluator(evalClient, model.name, [
      ...model.columns.map((c) => ({ name: c.name, type: c.type })),
      ...newCols.map((c) => ({ name: c.name, type: c.type })),
    ]);
    const mappingPools: MappingPool[] = [];
    for (const m of mappings) {
      mappingPools.push(
        await analyseRoundTrips({
          evaluator,
          mapping: m,
          tableColumns: model.columns,
          checks: model.checks,
          newColumnModels: probe ? modelOfNew(m, probe) : [],
          rows: seeds,
          variations: 300,
          random,
        }),
      );
    }
    const specDefects = mappingPools.reduce((s, p) => s + p.defects.count, 0);
    for (const p of mappingPools) {
      for (const e of p.defects.examples) emit({ kind: 'info', message: `spec defect: ${describeExample(e)}` });
      if (p.risks.count) emit({ kind: 'info', message: `rollback risk: ${p.risks.count} of ${p.risks.checked} variations of ${p.mapping.label} do not survive down and back, e.g. ${describeExample(p.risks.examples[0])}` });
    }

    // The app's connections: a DML-only role, one pool per version.
    const role = await db.createAppRole(async (name) => ({ name, password: await createAppRole(admin, name, model) }));
    if (!role) emit({ kind: 'info', message: 'the database user may not create roles: the app traffic runs as that user instead of a DML-only role' });
    const appRole = role?.name ?? (new URL(db.url).username || '(default user)');
    const appUrl = (() => {
      if (!role) return db.url;
      const u = new URL(db.url);
      u.username = role.name;
      u.password = role.password;
      return u.toString();
    })();
    const workers = options.workers ?? 8;
    const open = (): Pool => {
      const p = new Pool({ connectionString: appUrl, max: workers + 1 });
      p.on('error', () => undefined);
      pools.push(p);
      return p;
    };
    const appPools: Record<AppVersion, Pool> = { v1: open(), v2: open(), v3: open() };

    const ledger = new RowLedger();
    const pk = model.primaryKey;
    const keyOf = (r: Row) => JSON.stringify(pk.map((c) => r[c] ?? null));
    const touched = new Set(mappingPools.flatMap((p) => [...p.oldColumns, ...p.newColumns]));
    const untouched = allColumns.filter((c) => !touched.has(c));
    for (const r of seeds) {
      ledger.record({
        key: keyOf(r),
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
    const seedCount = ledger.acknowledged;
    const rowPool = await validRows(evaluator, rules, generator, insertableColumns(model, mappingPools), 500);
    traffic = new GenericTraffic({
      rowPool,
      pools: appPools,
      model,
      mappings: mappingPools,
      ledger,
      generator,
      keys: seeds.map(keyOf),
      workers,
      opsPerSecond: options.opsPerSecond,
      random,
      slowWriteMs: lockTimeoutMs,
    });
    const t = traffic;
    const checks: { label: string; checked: number; mismatches: number }[] = [];
    const mismatches = new Map<number, GenericMismatch>();
    const executor = {
      databaseUrl: db.url,
      lockTimeoutMs,
      onProgress: (event: ProgressEvent) => {
        timeline.executor(event);
        emit({ kind: 'executor', event });
      },
    };
    let lockRetries = 0;
    let readsChecked = 0;
    const enter = async (stage: RehearsalStage, weights: Weights, message: string) => {
      current = stage;
      emit({ kind: 'stage', stage, weights, message });
      await t.shift(stage, weights);
    };
    const during = async <T>(work: () => Promise<T>): Promise<T> => {
      const begun = performance.now();
      const result = await work();
      await sleep(Math.max(0, stepMs - (performance.now() - begun)));
      return result;
    };
    const check = async (label: string, newFilled: boolean, final = false) => {
      if (!final) await t.shift('(checking)', PAUSED);
      const reads = t.takeReads();
      const readObs = reads.map((r) => {
        const side = sidesOf(r.version);
        const view: View = { old: side.old, new: side.new, untouched };
        return { write: r.write, actual: r.actual, view, seenBy: `read by ${r.version} during ${label.replace(/^after /, '')}` };
      });
      const readMismatches = await compareObservations(evaluator, mappingPools, readObs);
      // At the end, read back as the final version reads it: its own connection, its columns.
      const table = await checkGenericTable(admin, final ? appPools.v3 : admin, evaluator, model, mappingPools, ledger, label, newFilled, untouched, !final);
      const all = [...readMismatches, ...table.mismatches];
      for (const m of all) if (!mismatches.has(m.seq)) mismatches.set(m.seq, m);
      checks.push({ label, checked: table.checked + reads.length, mismatches: all.length });
      emit({ kind: 'check', label, checked: table.checked + reads.length, mismatches: all.length });
      readsChecked += reads.length;
    };

    ticker = setInterval(() => emit({ kind: 'traffic', stats: t.currentStats() }), 250);
    const oldNames = mappingPools.flatMap((p) => p.oldColumns).join(', ') || 'its columns';
    current = 'baseline';
    emit({ kind: 'stage', stage: 'baseline', weights: { v1: 100 }, message: `baseline: v1 serves all traffic on ${oldNames}` });
    t.start('baseline', { v1: 100 });
    await during(async () => undefined);
    await check('after baseline', false);

    await enter('expand', { v1: 100 }, 'expand: new columns and the sync trigger, while v1 writes');
    lockRetries += (await during(() => expand(spec, executor))).lockRetries;
    await enter('backfill', { v1: 100 }, 'backfill: keyset batches fill the new columns, while v1 writes');
    const filled = await during(() => backfill(spec, { ...executor, batchSize: options.batchSize }));
    lockRetries += filled.lockRetries;
    const gate = await verify(spec, executor);
    emit({ kind: 'info', message: `verify after backfill: ${gate.message}` });
    await check('after backfill', true);

    for (const step of canarySteps('dual-write')) {
      await enter('dual-write', step.weights, `dual-write: v2 canary at ${step.share}%`);
      await during(async () => undefined);
    }
    await check('after dual-write', true);
    for (const step of canarySteps('cleanup')) {
      await enter('cleanup', step.weights, `cleanup: v3 canary at ${step.share}%`);
      await during(async () => undefined);
    }
    await check('after cleanup', true);

    await enter('contract', { v3: 100 }, `contract: verify, then drop ${oldNames} and the trigger, while v3 writes`);
    const final = await verify(spec, executor);
    const findings: string[] = [];
    if (final.ok) lockRetries += (await during(() => contract(spec, executor))).lockRetries;
    else {
      // The rows break what the spec promises: contract would refuse. That is the spec's or the
      // app's to fix (tandem verify names the rows), not a failure of Tandem's.
      findings.push(`verify before contract: ${final.message}`);
      emit({ kind: 'info', message: `finding (the spec or the app, not Tandem): ${final.message}; contract is not run` });
      await during(async () => undefined);
    }
    await t.stop();
    clearInterval(ticker);
    ticker = undefined;
    await check('after contract', true, true);

    const stages = stageReports(t.phases);
    const failedReads = stages.reduce((s, st) => s + st.failed_reads, 0);
    const allWriteMs = t.phases.flatMap((p) => p.writeMs);
    const lost = mismatches.size;
    const roundTrip: RoundTripSummary[] = mappingPools.map((p) => ({
      operation: p.mapping.label,
      realistic_values: seeds.length,
      defects: p.defects.count,
      defect_examples: p.defects.examples.map(describeExample),
      variations: p.risks.checked,
      rollback_risks: p.risks.count,
      risk_examples: p.risks.examples.map(describeExample),
    }));
    const lostOnRollback = ledger.lostOnRollback;
    return {
      ok: ledger.failed === 0 && failedReads === 0 && lost === 0 && gate.ok && final.ok && specDefects === 0 && lostOnRollback.length === 0,
      migration: spec.name,
      database: db.kind,
      rows: seeds.length,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      acknowledged_writes: ledger.acknowledged - seedCount,
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
      checks,
      new_customer: null,
      app_role: appRole,
      failure_samples: ledger.failureSamples,
      mismatch_samples: [...mismatches.values()].slice(0, 10),
      schema,
      rejected_by_schema: ledger.rejected,
      rejected_samples: ledger.rejectedSamples,
      round_trip: roundTrip,
      spec_defects: specDefects,
      findings,
      lost_on_rollback: {
        count: lostOnRollback.length,
        samples: lostOnRollback.slice(0, 10).map((w) => ({
          seq: w.seq,
          id: w.key,
          version: w.version,
          stage: w.stage,
          wrote: Object.assign({}, ...w.mappings.filter((m) => m.entry && !m.entry.roundTrips).map((m) => m.new)),
          rollback_gives: Object.assign({}, ...w.mappings.filter((m) => m.entry && !m.entry.roundTrips).map((m) => m.entry!.back)),
        })),
      },
      timeline: timeline.build(t.phases, lockTimeoutMs),
    };
  } catch (err) {
    const e = err as { message?: string; exitCode?: number };
    if (current === 'setup' && e?.exitCode !== undefined) throw err;
    throw new RehearsalStoppedError(current, err);
  } finally {
    if (ticker) clearInterval(ticker);
    if (traffic) await traffic.stop().catch(() => undefined);
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
    if (evalClient) await evalClient.end().catch(() => undefined);
    await db.close(options.keep ?? false);
  }
}

export type { RehearsalEvent };
