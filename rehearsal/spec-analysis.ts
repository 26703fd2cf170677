import { Client } from 'pg';
import { loadTable } from '../executor/catalog';
import { quoteIdent } from '../phases/sql/identifiers';
import { ColumnMapping } from '../phases/sql/operations';
import { evaluationStartupOptions } from '../phases/sql/plans/evaluation-settings';
import { MigrationSpec, resolveSpec } from '../phases/sql/spec';
import { ExpressionEvaluator, Row } from './expression-evaluator';
import { analyseRoundTrips, describeExample, MappingPool } from './round-trip';
import { SetupContext } from './run-rehearsal';
import { loadTableModel, ModelColumn, TableModel } from './table-model';

/** The spec's column mappings (what each operation's up and down derive), resolved against the table as created. */
export async function resolveMappings(spec: MigrationSpec, url: string): Promise<readonly ColumnMapping[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return resolveSpec(spec, await loadTable(client, spec)).mappings;
  } finally {
    await client.end();
  }
}

export interface SpecAnalysis {
  readonly evaluator: ExpressionEvaluator;
  readonly mappingPools: readonly MappingPool[];
  readonly specDefects: number;
}

/**
 * The spec's expressions on realistic values and on variations within the new types, under the
 * settings the trigger and the backfill evaluate with (TimeZone UTC, DateStyle ISO, ...).
 */
export async function analyseSpec(
  model: TableModel,
  mappings: readonly ColumnMapping[],
  seeds: Row[],
  random: () => number,
  { db, emit, onClose }: SetupContext,
): Promise<SpecAnalysis> {
  const evalClient = new Client({ connectionString: db.url, options: evaluationStartupOptions() });
  evalClient.on('error', () => undefined);
  onClose(() => evalClient.end());
  await evalClient.connect();
  const newCols = mappings.flatMap((m) => m.newColumns);
  let probe: TableModel | undefined;
  if (newCols.length) {
    await evalClient.query(
      `CREATE TEMP TABLE _tandem_rehearsal_new (${newCols.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`,
    );
    probe = await loadTableModel(evalClient, undefined, '_tandem_rehearsal_new');
  }
  const evaluator = new ExpressionEvaluator(evalClient, model.name, [
    ...model.columns.map((c) => ({ name: c.name, type: c.type })),
    ...newCols.map((c) => ({ name: c.name, type: c.type })),
  ]);
  const mappingPools: MappingPool[] = [];
  for (const m of mappings) {
    const newColumnModels = probe ? modelOfNew(m, probe) : [];
    mappingPools.push(
      await analyseRoundTrips({
        evaluator,
        mapping: m,
        tableColumns: model.columns,
        checks: model.checks,
        newColumnModels,
        rows: seeds,
        variations: 300,
        random,
      }),
    );
  }
  for (const p of mappingPools) {
    for (const e of p.defects.examples) emit({ kind: 'info', message: `spec defect: ${describeExample(e)}` });
    if (p.risks.count)
      emit({
        kind: 'info',
        message: `rollback risk: ${p.risks.count} of ${p.risks.checked} variations of ${p.mapping.label} do not survive down and back, e.g. ${describeExample(p.risks.examples[0])}`,
      });
  }
  return { evaluator, mappingPools, specDefects: mappingPools.reduce((s, p) => s + p.defects.count, 0) };
}

/** The new columns as the value generator sees them (their types read from a probe table). */
function modelOfNew(mapping: ColumnMapping, probe: TableModel): ModelColumn[] {
  return mapping.newColumns.map((n) => ({ ...probe.columns.find((x) => x.name === n.name)!, notNull: n.notNull }));
}
