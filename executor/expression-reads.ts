import { Client } from 'pg';
import { SpecError } from '../phases/errors';
import { quoteIdent } from '../phases/sql/identifiers';
import { table } from '../phases/sql/plan';
import { downFieldOf } from '../phases/sql/operations';
import { ResolvedSpec } from '../phases/sql/spec';
import { querySingle } from './connection';
import { settingsDependence } from './settings-independence';
import { syncsColumns } from '../phases/sql/carrier';
import { errorMessage } from '../phases/error-fields';

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
  const generated = new Set(
    (
      await client.query<{ name: string }>(
        `SELECT attname AS name FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated <> ''`,
        [resolved.table.oid],
      )
    ).rows.map((r) => r.name),
  );
  const newCols = resolved.mappings.flatMap((m) => m.newColumns);
  const self = quoteIdent(resolved.table.name);
  const reads: { up: string[]; down: string[] }[] = [];
  let volatileNames = new Set<string>();
  // The first reason an expression may depend on an evaluation setting other than search_path (null: none can).
  let dependence: string | null = null;
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL statement_timeout = 5000');
    await querySingle(client, `CREATE TEMP TABLE _tandem_shape (LIKE ${table(resolved)})`);
    for (const c of newCols)
      await querySingle(client, `ALTER TABLE pg_temp._tandem_shape ADD COLUMN ${quoteIdent(c.name)} ${c.type}`);
    const all = [...resolved.table.columns.map((c) => c.name), ...newCols.map((c) => c.name)];
    let k = 0;
    const readsOf = async (field: string, expr: string): Promise<string[]> => {
      const view = `_tandem_reads_${k++}`;
      try {
        await querySingle(client, `SAVEPOINT _tandem_reads`);
        await querySingle(
          client,
          `CREATE TEMP VIEW ${view} AS SELECT (${expr}) AS v FROM pg_temp._tandem_shape AS ${self}`,
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
      dependence ??= await viewDependence(view, field);
      const names = r.rows.some((x) => x.name === null) ? all : r.rows.map((x) => x.name!);
      const gen = names.filter((n) => generated.has(n));
      if (gen.length) {
        throw new SpecError(
          field,
          `reads the generated column${gen.length > 1 ? 's' : ''} ${gen.map((g) => `"${g}"`).join(', ')}, which a BEFORE trigger sees as NULL; compute from the columns it is generated from`,
        );
      }
      return names.sort();
    };
    const columnTypes = new Map(
      (
        await client.query<{ name: string; type: number }>(
          `SELECT attname AS name, atttypid::int AS type FROM pg_attribute WHERE attrelid = 'pg_temp._tandem_shape'::regclass AND attnum > 0 AND NOT attisdropped`,
        )
      ).rows.map((r) => [r.name, r.type]),
    );
    const compared = resolved.mappings
      .flatMap((m) => [...m.oldColumns, ...m.newColumns.map((c) => c.name)])
      .map((c) => columnTypes.get(c) ?? -1);
    const viewDependence = async (view: string, field: string): Promise<string | null> => {
      const tree = (
        await client.query<{ tree: string }>(
          `SELECT ev_action::text AS tree FROM pg_rewrite WHERE ev_class = $1::regclass`,
          [`pg_temp.${view}`],
        )
      ).rows[0].tree;
      const why = await settingsDependence(client, tree, compared);
      return why && `${field}: ${why}`;
    };
    // Which old columns have a volatile default, as PostgreSQL itself judges it: adding a column
    // with that default rewrites the (empty, temporary) copy, a stable or immutable one does not.
    const volatile = new Set<string>();
    const oldNames = new Set(resolved.mappings.flatMap((m) => m.oldColumns));
    for (const c of resolved.table.columns) {
      if (!oldNames.has(c.name) || c.defaultExpr === undefined) continue;
      const before = (await client.query(`SELECT pg_relation_filenode('pg_temp._tandem_shape') AS f`)).rows[0].f;
      await querySingle(
        client,
        `ALTER TABLE pg_temp._tandem_shape ADD COLUMN ${quoteIdent(`_tandem_default_${k++}`)} ${c.type} DEFAULT (${c.defaultExpr})`,
      );
      const after = (await client.query(`SELECT pg_relation_filenode('pg_temp._tandem_shape') AS f`)).rows[0].f;
      if (before !== after) volatile.add(c.name);
    }
    volatileNames = volatile;
    // The insert trigger compares an old column with its (non-volatile) default, evaluated in the trigger.
    for (const c of resolved.table.columns) {
      if (!oldNames.has(c.name) || c.defaultExpr === undefined || volatile.has(c.name) || dependence) continue;
      const view = `_tandem_reads_${k++}`;
      await querySingle(client, `CREATE TEMP VIEW ${view} AS SELECT (${c.defaultExpr})::${c.type} AS v`);
      dependence = await viewDependence(view, `the default of ${c.name}`);
    }
    for (const m of resolved.mappings) {
      const up = new Set<string>();
      const down = new Set<string>();
      for (const c of m.newColumns)
        if (c.up !== undefined) for (const n of await readsOf(`${c.field}.up`, c.up)) up.add(n);
      for (const [old, expr] of Object.entries(m.down))
        for (const n of await readsOf(downFieldOf(m, old), expr)) down.add(n);
      reads.push({ up: [...up].sort(), down: [...down].sort() });
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
  return {
    ...resolved,
    reads,
    settingsIndependent: dependence === null,
    table: {
      ...resolved.table,
      columns: resolved.table.columns.map((c) => (volatileNames.has(c.name) ? { ...c, volatileDefault: true } : c)),
    },
  };
}
