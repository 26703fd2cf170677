import { Client } from 'pg';
import { SpecError } from '../phases/errors';
import { quoteIdent } from '../phases/sql/identifiers';
import { table } from '../phases/sql/plan';
import { downFieldOf } from '../phases/sql/operations';
import { ResolvedSpec } from '../phases/sql/spec';
import { querySingle } from './connection';
import { settingsDependence } from './settings-independence';
import { EvaluatedExpression, rowAssignments } from './row-assignments';
import { syncsColumns } from '../phases/sql/carrier';
import { errorMessage } from '../phases/error-fields';

/** The throwaway transaction's state while the expressions are read, shared by the steps below. */
interface ShapeReading {
  readonly client: Client;
  /** The table's own name, quoted: the alias the expressions see the shape under. */
  readonly self: string;
  /** Every column of the shape (the table's and the new ones): what a whole-row reference reads. */
  readonly all: string[];
  readonly generated: Set<string>;
  /** The type oids of the columns the triggers compare. */
  readonly compared: number[];
  /** The first reason an expression may depend on an evaluation setting other than search_path (null: none can). */
  dependence: string | null;
  /** Counter for the names of the throwaway views and columns. */
  k: number;
  /** Each up/down read, with its view and the column the trigger assigns it to. */
  readonly evaluated: EvaluatedExpression[];
}

/** The table's generated columns. */
async function generatedColumns(client: Client, resolved: ResolvedSpec): Promise<Set<string>> {
  return new Set(
    (
      await client.query<{ name: string }>(
        `SELECT attname AS name FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated <> ''`,
        [resolved.table.oid],
      )
    ).rows.map((r) => r.name),
  );
}

/** An empty temporary copy of the table's columns plus the new columns. */
async function createShape(
  client: Client,
  resolved: ResolvedSpec,
  newCols: ResolvedSpec['mappings'][number]['newColumns'],
): Promise<void> {
  await querySingle(client, `CREATE TEMP TABLE _tandem_shape (LIKE ${table(resolved)})`);
  for (const c of newCols)
    await querySingle(client, `ALTER TABLE pg_temp._tandem_shape ADD COLUMN ${quoteIdent(c.name)} ${c.type}`);
}

/** The type oids of the old and new columns of every mapping (-1 for a name the shape lacks). */
async function comparedColumnTypes(client: Client, resolved: ResolvedSpec): Promise<number[]> {
  const columnTypes = new Map(
    (
      await client.query<{ name: string; type: number }>(
        `SELECT attname AS name, atttypid::int AS type FROM pg_attribute WHERE attrelid = 'pg_temp._tandem_shape'::regclass AND attnum > 0 AND NOT attisdropped`,
      )
    ).rows.map((r) => [r.name, r.type]),
  );
  return resolved.mappings
    .flatMap((m) => [...m.oldColumns, ...m.newColumns.map((c) => c.name)])
    .map((c) => columnTypes.get(c) ?? -1);
}

/** Why the view's expression may depend on an evaluation setting, prefixed with `field` (null: it cannot). */
async function viewDependence(s: ShapeReading, view: string, field: string): Promise<string | null> {
  const tree = (
    await s.client.query<{ tree: string }>(
      `SELECT ev_action::text AS tree FROM pg_rewrite WHERE ev_class = $1::regclass`,
      [`pg_temp.${view}`],
    )
  ).rows[0].tree;
  const why = await settingsDependence(s.client, tree, s.compared);
  return why && `${field}: ${why}`;
}

/** The columns of the shape one expression reads, sorted; refuses an expression PostgreSQL rejects or one that reads a generated column. */
async function readsOf(s: ShapeReading, field: string, expr: string, target?: string): Promise<string[]> {
  const { client } = s;
  const view = `_tandem_reads_${s.k++}`;
  try {
    await querySingle(client, `SAVEPOINT _tandem_reads`);
    await querySingle(
      client,
      `CREATE TEMP VIEW ${view} AS SELECT (${expr}) AS v FROM pg_temp._tandem_shape AS ${s.self}`,
    );
  } catch (err) {
    await client.query('ROLLBACK TO SAVEPOINT _tandem_reads');
    throw new SpecError(field, `PostgreSQL rejects it: ${errorMessage(err)}`);
  }
  const r = await client.query<{ name: string | null }>(
    `SELECT DISTINCT a.attname AS name
           FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid
           LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0
          WHERE d.classid = 'pg_rewrite'::regclass AND w.ev_class = $1::regclass AND d.refobjid = 'pg_temp._tandem_shape'::regclass`,
    [`pg_temp.${view}`],
  );
  s.dependence ??= await viewDependence(s, view, field);
  if (target !== undefined) s.evaluated.push({ view, expr, target });
  const names = r.rows.some((x) => x.name === null) ? s.all : r.rows.map((x) => x.name!);
  const gen = names.filter((n) => s.generated.has(n));
  if (gen.length) {
    throw new SpecError(
      field,
      `reads the generated column${gen.length > 1 ? 's' : ''} ${gen.map((g) => `"${g}"`).join(', ')}, which a BEFORE trigger sees as NULL; compute from the columns it is generated from`,
    );
  }
  return names.sort();
}

/**
 * Which old columns have a volatile default, as PostgreSQL itself judges it: adding a column
 * with that default rewrites the (empty, temporary) copy, a stable or immutable one does not.
 */
async function volatileDefaults(s: ShapeReading, resolved: ResolvedSpec, oldNames: Set<string>): Promise<Set<string>> {
  const { client } = s;
  const volatile = new Set<string>();
  for (const c of resolved.table.columns) {
    if (!oldNames.has(c.name) || c.defaultExpr === undefined) continue;
    const before = (await client.query(`SELECT pg_relation_filenode('pg_temp._tandem_shape') AS f`)).rows[0].f;
    await querySingle(
      client,
      `ALTER TABLE pg_temp._tandem_shape ADD COLUMN ${quoteIdent(`_tandem_default_${s.k++}`)} ${c.type} DEFAULT (${c.defaultExpr})`,
    );
    const after = (await client.query(`SELECT pg_relation_filenode('pg_temp._tandem_shape') AS f`)).rows[0].f;
    if (before !== after) volatile.add(c.name);
  }
  return volatile;
}

/** The insert trigger compares an old column with its (non-volatile) default, evaluated in the trigger. */
async function noteDefaultsDependence(
  s: ShapeReading,
  resolved: ResolvedSpec,
  { oldNames, volatile }: { oldNames: Set<string>; volatile: Set<string> },
): Promise<void> {
  for (const c of resolved.table.columns) {
    if (!oldNames.has(c.name) || c.defaultExpr === undefined || volatile.has(c.name) || s.dependence) continue;
    const view = `_tandem_reads_${s.k++}`;
    await querySingle(s.client, `CREATE TEMP VIEW ${view} AS SELECT (${c.defaultExpr})::${c.type} AS v`);
    s.dependence = await viewDependence(s, view, `the default of ${c.name}`);
  }
}

/** The columns each mapping's `up` expressions and `down` expressions read. */
async function mappingReads(s: ShapeReading, resolved: ResolvedSpec): Promise<{ up: string[]; down: string[] }[]> {
  const reads: { up: string[]; down: string[] }[] = [];
  for (const m of resolved.mappings) {
    const up = new Set<string>();
    const down = new Set<string>();
    for (const c of m.newColumns)
      if (c.up !== undefined) for (const n of await readsOf(s, `${c.field}.up`, c.up, c.name)) up.add(n);
    for (const [old, expr] of Object.entries(m.down))
      for (const n of await readsOf(s, downFieldOf(m, old), expr, old)) down.add(n);
    reads.push({ up: [...up].sort(), down: [...down].sort() });
  }
  return reads;
}

/** What the throwaway transaction finds: each mapping's reads, the volatile defaults, the first settings dependence. */
interface ShapeFindings {
  readonly reads: { up: string[]; down: string[] }[];
  readonly volatileNames: Set<string>;
  readonly dependence: string | null;
  readonly assignments: Record<string, string>;
}

/** Builds the shape table and reads the defaults and every expression over it, inside the open transaction. */
async function readShape(client: Client, resolved: ResolvedSpec, generated: Set<string>): Promise<ShapeFindings> {
  const newCols = resolved.mappings.flatMap((m) => m.newColumns);
  await client.query('SET LOCAL statement_timeout = 5000');
  await createShape(client, resolved, newCols);
  const s: ShapeReading = {
    client,
    self: quoteIdent(resolved.table.name),
    all: [...resolved.table.columns.map((c) => c.name), ...newCols.map((c) => c.name)],
    generated,
    compared: await comparedColumnTypes(client, resolved),
    dependence: null,
    k: 0,
    evaluated: [],
  };
  const oldNames = new Set(resolved.mappings.flatMap((m) => m.oldColumns));
  const volatileNames = await volatileDefaults(s, resolved, oldNames);
  await noteDefaultsDependence(s, resolved, { oldNames, volatile: volatileNames });
  const reads = await mappingReads(s, resolved);
  // Last: it renames the shape's columns.
  const assignments = s.dependence === null ? await rowAssignments(client, resolved, s.evaluated) : {};
  return { reads, volatileNames, dependence: s.dependence, assignments };
}

/**
 * This session's (pinned) search_path, and the schemas names resolve in under it as
 * `current_schemas(true)` lists them, without the session's temporary schemas: what the sync
 * trigger compares an app session's list with before it runs without its SET clause
 * (ResolvedSpec.pinnedPath, pathSchemas).
 */
async function pinnedResolution(client: Client): Promise<{ pinnedPath: string; pathSchemas: string[] }> {
  const r = await client.query<{ path: string; schemas: string[] }>(
    `SELECT current_setting('search_path') AS path,
            ARRAY(SELECT s::text FROM unnest(current_schemas(true)) WITH ORDINALITY AS u(s, n)
                   WHERE s !~ '^pg_(toast_)?temp_[0-9]+$' ORDER BY n) AS schemas`,
  );
  return { pinnedPath: r.rows[0].path, pathSchemas: r.rows[0].schemas };
}

/**
 * Which table columns each `up` and `down` reads, as PostgreSQL itself resolves the expression:
 * each one becomes a throwaway view over an empty copy of the table's columns (plus the new
 * columns), under the table's own name, and the view's pg_depend rows name the columns it reads
 * (a whole-row reference reads every column). Names read inside a subquery from another FROM item
 * are not the row's. Runs in a transaction that is always rolled back; needs only TEMP.
 * Refuses an expression that reads a generated column: a BEFORE trigger sees it as NULL.
 */
export async function analyseReads(client: Client, resolved: ResolvedSpec): Promise<ResolvedSpec> {
  if (!syncsColumns(resolved)) return { ...resolved, reads: [] };
  const generated = await generatedColumns(client, resolved);
  let found: ShapeFindings;
  await client.query('BEGIN');
  try {
    found = await readShape(client, resolved, generated);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
  const { reads, volatileNames, dependence, assignments } = found;
  return {
    ...resolved,
    reads,
    settingsIndependent: dependence === null,
    directAssignments: assignments,
    ...(await pinnedResolution(client)),
    table: {
      ...resolved.table,
      columns: resolved.table.columns.map((c) => (volatileNames.has(c.name) ? { ...c, volatileDefault: true } : c)),
    },
  };
}
