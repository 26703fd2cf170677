import { Client } from 'pg';
import { TableInfo, upgradeRecordedPlan } from '../phases/sql/operations';
import { RefusedError } from '../phases/errors';
import { droppedTables, PlanStatement } from '../phases/sql/plan';
import { MigrationSpec, resolveSpec, ResolvedSpec } from '../phases/sql/spec';
import { StateSchemaError } from './errors';
import { MigrationProgress } from './types';

/**
 * Progress lives in the database, in tandem.migrations, written in the same transaction as the
 * work it records, so `status` tells the truth after a crash.
 */
export interface MigrationState {
  name: string;
  tableSchema: string;
  tableName: string;
  specHash: string;
  step: MigrationProgress;
  /** The spec as resolved against the table at expand: later steps plan from this, not from a catalog that has moved on. */
  resolved: ResolvedSpec;
  backfillLastKey: string[] | null;
  backfillBound: string[] | null;
  backfillDone: number;
  updatedAt: string;
}

const BOOTSTRAP_LOCK = 1952542309; // 'tane': serializes creation of the tandem schema

/**
 * The state schema and table, as statements that run first in expand's own transaction: a failed
 * expand leaves nothing behind, not even the schema. The transaction-level advisory lock keeps two
 * first expands (on different tables) from racing to create it.
 */
export const STATE_BOOTSTRAP: readonly PlanStatement[] = [
  { id: 'state-lock', sql: `SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})` },
  { id: 'state-schema', sql: `CREATE SCHEMA IF NOT EXISTS tandem` },
  {
    id: 'state-table',
    sql: `CREATE TABLE IF NOT EXISTS tandem.migrations (
      name text PRIMARY KEY,
      table_schema text NOT NULL,
      table_name text NOT NULL,
      spec_hash text NOT NULL,
      step text NOT NULL,
      resolved jsonb NOT NULL,
      backfill_last_key jsonb,
      backfill_bound jsonb,
      backfill_done bigint NOT NULL DEFAULT 0,
      started_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      history jsonb NOT NULL DEFAULT '[]'
    )`,
  },
];

/**
 * The roles whose objects count as the migrator's own: current_user, the table's owner (whose
 * state a read-only role such as the analysis Job's reads), and the roles they are members of
 * (membership, not what a superuser may do).
 */
const MINE = `WITH RECURSIVE mine(oid) AS (
  SELECT oid FROM pg_roles WHERE rolname = current_user
  UNION SELECT relowner FROM pg_class WHERE oid = $1::oid
  UNION SELECT m.roleid FROM pg_auth_members m JOIN mine ON m.member = mine.oid)`;

/**
 * Refuse a state schema that anybody else could have written: the schema `tandem`, its tables,
 * functions and other objects must belong to the migrator (or a role it is a member of), and no
 * other role (PUBLIC included) may hold CREATE on the schema or write privileges on its tables,
 * whole-table or per column. Otherwise whatever `CREATE ... IF NOT EXISTS` would adopt, and
 * the plan recorded in it, could be someone else's.
 */
export async function checkStateTrusted(client: Client, tableOid: number): Promise<void> {
  const r = await client.query<{ object: string; owner: string; problem: string }>(
    `${MINE},
     ns AS (SELECT oid, nspowner, nspacl FROM pg_namespace WHERE nspname = 'tandem')
     SELECT 'schema tandem' AS object, pg_get_userbyid(ns.nspowner) AS owner, 'owned by another role' AS problem
       FROM ns WHERE ns.nspowner NOT IN (SELECT oid FROM mine)
     UNION ALL
     SELECT 'schema tandem', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, 'CREATE granted to another role'
       FROM ns, aclexplode(ns.nspacl) a WHERE a.privilege_type = 'CREATE' AND a.grantee NOT IN (SELECT oid FROM mine)
     UNION ALL
     SELECT 'tandem.' || c.relname, pg_get_userbyid(c.relowner), 'owned by another role'
       FROM pg_class c JOIN ns ON c.relnamespace = ns.oid WHERE c.relowner NOT IN (SELECT oid FROM mine)
     UNION ALL
     SELECT 'tandem.' || c.relname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type || ' granted to another role'
       FROM pg_class c JOIN ns ON c.relnamespace = ns.oid, aclexplode(c.relacl) a
      WHERE a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES') AND a.grantee NOT IN (SELECT oid FROM mine)
     UNION ALL
     SELECT 'tandem.' || c.relname || '.' || att.attname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type || ' granted to another role'
       FROM pg_class c JOIN ns ON c.relnamespace = ns.oid JOIN pg_attribute att ON att.attrelid = c.oid, aclexplode(att.attacl) a
      WHERE a.privilege_type IN ('INSERT', 'UPDATE') AND a.grantee NOT IN (SELECT oid FROM mine)
     UNION ALL
     SELECT 'function tandem.' || p.proname || '()', pg_get_userbyid(p.proowner), 'owned by another role'
       FROM pg_proc p JOIN ns ON p.pronamespace = ns.oid WHERE p.proowner NOT IN (SELECT oid FROM mine)
     UNION ALL
     SELECT 'type tandem.' || t.typname, pg_get_userbyid(t.typowner), 'owned by another role'
       FROM pg_type t JOIN ns ON t.typnamespace = ns.oid WHERE t.typowner NOT IN (SELECT oid FROM mine) AND t.typrelid = 0
     ORDER BY 1, 2`,
    [tableOid],
  );
  if (r.rows.length === 0) return;
  const found = r.rows.map((x) =>
    x.problem === 'owned by another role'
      ? `${x.object} is owned by ${x.owner}`
      : `${x.object} grants ${x.problem.replace(' granted to another role', '')} to ${x.owner}`,
  );
  throw new StateSchemaError(
    [...new Set(r.rows.map((x) => x.object))],
    `the tandem state schema cannot be trusted: ${found.join('; ')}; another role could rewrite the recorded plan that the executor runs. ` +
      'Drop or fix these as their owner (the state must belong to the migrator and be writable by it alone), then run the step again',
  );
}

async function stateTableExists(client: Client): Promise<boolean> {
  return (await client.query(`SELECT to_regclass('tandem.migrations') IS NOT NULL AS ok`)).rows[0].ok;
}

/** A row of tandem.migrations as node-postgres returns it (jsonb parsed, bigint as text, timestamptz as a Date). */
interface MigrationRow {
  name: string;
  table_schema: string;
  table_name: string;
  spec_hash: string;
  step: MigrationProgress;
  resolved: ResolvedSpec;
  backfill_last_key: string[] | null;
  backfill_bound: string[] | null;
  backfill_done: string | number;
  updated_at: Date | string;
}

function fromRow(r: MigrationRow): MigrationState {
  return {
    name: r.name,
    tableSchema: r.table_schema,
    tableName: r.table_name,
    specHash: r.spec_hash,
    step: r.step,
    resolved: upgradeRecordedPlan(r.resolved),
    backfillLastKey: r.backfill_last_key,
    backfillBound: r.backfill_bound,
    backfillDone: Number(r.backfill_done),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

export async function readState(client: Client, name: string): Promise<MigrationState | null> {
  if (!(await stateTableExists(client))) return null;
  const r = await client.query<MigrationRow>(`SELECT * FROM tandem.migrations WHERE name = $1`, [name]);
  return r.rows[0] ? fromRow(r.rows[0]) : null;
}

/** Other migrations in progress on the same table (expanded and not yet contracted or rolled back). */
export async function activeOnTable(client: Client, schema: string, table: string, except: string): Promise<string[]> {
  if (!(await stateTableExists(client))) return [];
  const r = await client.query<{ name: string }>(
    `SELECT name FROM tandem.migrations
      WHERE table_schema = $1 AND table_name = $2 AND name <> $3 AND step NOT IN ('contracted', 'rolled_back')`,
    [schema, table, except],
  );
  return r.rows.map((x) => x.name);
}

/** Migrations in progress (other than `except`) whose spec drops this table at contract (drop_table). */
export async function activeDroppingTable(
  client: Client,
  schema: string,
  table: string,
  except: string,
): Promise<string[]> {
  if (!(await stateTableExists(client))) return [];
  const r = await client.query<{ name: string }>(
    `SELECT m.name FROM tandem.migrations m
      WHERE m.name <> $3 AND m.step NOT IN ('contracted', 'rolled_back') AND jsonb_typeof(m.resolved->'objects') = 'array'
        AND EXISTS (SELECT 1 FROM jsonb_array_elements(m.resolved->'objects') o
                     WHERE jsonb_typeof(o->'dropsTables') = 'array'
                       AND EXISTS (SELECT 1 FROM jsonb_array_elements(o->'dropsTables') d WHERE d->>'schema' = $1 AND d->>'name' = $2))
      ORDER BY m.name`,
    [schema, table, except],
  );
  return r.rows.map((x) => x.name);
}

/**
 * drop_table of a table another migration is in progress on would orphan that migration (its
 * state, its function, a rollback that can never run): refused, naming it. And a migration of a
 * table another migration in progress drops at contract is refused the same way.
 */
export async function checkDroppedTablesIdle(client: Client, resolved: ResolvedSpec): Promise<void> {
  const name = resolved.spec.name;
  for (const t of droppedTables(resolved)) {
    const others = await activeOnTable(client, t.schema, t.name, name);
    if (others.length) {
      throw new RefusedError(
        `drop_table ${t.schema}.${t.name} refused: migration ${others.join(', ')} is in progress on that table; contract or roll it back first`,
        name,
      );
    }
  }
}

/** A table that a migration in progress drops at contract takes no new migration. */
export async function checkTableNotDropped(client: Client, resolved: ResolvedSpec): Promise<void> {
  const name = resolved.spec.name;
  const dropping = await activeDroppingTable(client, resolved.table.schema, resolved.table.name, name);
  if (dropping.length) {
    throw new RefusedError(
      `${name} refused: table ${resolved.table.schema}.${resolved.table.name} is dropped at contract by migration ${dropping.join(', ')}, in progress; contract or roll it back first`,
      name,
    );
  }
}

/**
 * One entry of a migration's history: the step, when its transaction started, how long it took
 * (ms, to the write of this entry), who ran it (the announced actor and the login role).
 */
const HISTORY_ENTRY = `jsonb_build_object('step', $STEP, 'at', now(),
  'ms', round(extract(epoch FROM clock_timestamp() - now()) * 1000),
  'by', left(nullif(current_setting('tandem.actor', true), ''), 200),
  'db_user', session_user::text || CASE WHEN current_user <> session_user THEN ' as ' || current_user::text ELSE '' END)`;

/** Record expand (inside expand's transaction). A re-expand (after a rollback) keeps when the migration started; its history gains the entry. */
export async function recordExpanded(client: Client, resolved: ResolvedSpec): Promise<void> {
  const entry = HISTORY_ENTRY.replace('$STEP', `'expanded'`);
  await client.query(
    `INSERT INTO tandem.migrations (name, table_schema, table_name, spec_hash, step, resolved, history)
     VALUES ($1, $2, $3, $4, 'expanded', $5, jsonb_build_array(${entry}))
     ON CONFLICT (name) DO UPDATE SET table_schema = EXCLUDED.table_schema, table_name = EXCLUDED.table_name,
       spec_hash = EXCLUDED.spec_hash, step = 'expanded', resolved = EXCLUDED.resolved,
       backfill_last_key = NULL, backfill_bound = NULL, backfill_done = 0, updated_at = now(),
       history = tandem.migrations.history || jsonb_build_array(${entry})`,
    [resolved.spec.name, resolved.table.schema, resolved.table.name, resolved.spec.hash, JSON.stringify(resolved)],
  );
}

export async function recordStep(
  client: Client,
  name: string,
  step: MigrationProgress,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await client.query(
    `UPDATE tandem.migrations SET step = $2, updated_at = now(),
       history = history || jsonb_build_array(${HISTORY_ENTRY.replace('$STEP', '$2::text')} || jsonb_build_object('backfill_done', backfill_done) || $3::jsonb)
     WHERE name = $1`,
    [name, step, JSON.stringify(extra)],
  );
}

/**
 * The backfill's checkpoint, in the same statement as the batch it records: `batchUpdate` is the
 * batch's UPDATE (with its own params first); its row count is added to the progress. Returns
 * the statement and the params to append: the migration name and the batch's top key.
 */
export function checkpointStatement(batchUpdate: string, paramCount: number): string {
  return [
    `WITH updated AS (\n${batchUpdate}\nRETURNING 1\n)`,
    `UPDATE tandem.migrations SET step = 'backfilling', backfill_last_key = $${paramCount + 2}::jsonb,`,
    `  backfill_done = backfill_done + (SELECT count(*) FROM updated), updated_at = now()`,
    `WHERE name = $${paramCount + 1}`,
    `RETURNING (SELECT count(*) FROM updated)::int AS updated`,
  ].join('\n');
}

export async function recordBound(client: Client, name: string, bound: string[] | null): Promise<void> {
  await client.query(`UPDATE tandem.migrations SET backfill_bound = $2, updated_at = now() WHERE name = $1`, [
    name,
    bound ? JSON.stringify(bound) : null,
  ]);
}

/** JSON with sorted keys: jsonb does not keep the key order it was given. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function sameColumns(
  a: readonly { name: string; type: string }[],
  b: readonly { name: string; type: string }[],
): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i].name && c.type === b[i].type);
}

function isKey(value: unknown, length: number): boolean {
  return (
    value === null || (Array.isArray(value) && value.length === length && value.every((v) => typeof v === 'string'))
  );
}

/**
 * Nothing read back from tandem.migrations is run as it was stored: the plan is derived again by
 * the same validators from the spec given (whose hash must be the recorded one), over the table
 * as recorded at expand, after checking that record against the live catalog (same table, same
 * primary key, every recorded column still there with the same type). A recorded plan that
 * differs from the derived one was changed outside Tandem: refused.
 */
export function trustedResolution(state: MigrationState, spec: MigrationSpec, live: TableInfo): ResolvedSpec {
  const label = `${live.schema}.${live.name}`;
  const refuse = (why: string): never => {
    throw new StateSchemaError(
      ['tandem.migrations'],
      `the state recorded for ${spec.name} in tandem.migrations does not match ${label}: ${why}; it was changed outside Tandem, so nothing is run from it`,
    );
  };
  const stored = state.resolved as Partial<ResolvedSpec> | null;
  const table = stored?.table as TableInfo | undefined;
  if (!table || !Array.isArray(table.columns) || !Array.isArray(table.primaryKey))
    return refuse('the recorded table is malformed');
  if (Number(table.oid) !== live.oid || table.schema !== live.schema || table.name !== live.name)
    return refuse('it names another table');
  if (!sameColumns(table.primaryKey, live.primaryKey)) return refuse('the primary key differs');
  for (const c of table.columns) {
    const now = live.columns.find((x) => x.name === c?.name);
    if (!now || now.type !== c.type)
      return refuse(
        `column ${JSON.stringify(c?.name)} ${now ? `is now of type ${now.type}, recorded ${c.type}` : 'is gone'}`,
      );
  }
  if (stored?.spec?.hash !== state.specHash) return refuse('the recorded spec hash differs from the recorded spec');
  if (!isKey(state.backfillLastKey, live.primaryKey.length) || !isKey(state.backfillBound, live.primaryKey.length))
    return refuse('the backfill checkpoint is not a primary key');
  const derived = resolveSpec(spec, {
    ...table,
    oid: live.oid,
    columns: table.columns.map((c) => ({ ...c })),
    primaryKey: live.primaryKey,
  });
  if (canonical(derived.mappings) !== canonical(stored.mappings))
    return refuse('the recorded plan differs from the one the spec gives');
  // The columns each expression reads were found by PostgreSQL at expand (expression-reads.ts) and
  // decide which UPDATE OF triggers exist: carried over, but only as names of the table's columns.
  if (stored.reads === undefined) return derived;
  const names = new Set([
    ...table.columns.map((c) => c.name),
    ...derived.mappings.flatMap((m) => m.newColumns.map((c) => c.name)),
  ]);
  const isNames = (x: unknown) => Array.isArray(x) && x.every((n) => typeof n === 'string' && names.has(n));
  const reads = stored.reads as unknown;
  if (
    !Array.isArray(reads) ||
    reads.length !== derived.mappings.length ||
    !reads.every((r) => isNames(r?.up) && isNames(r?.down))
  ) {
    return refuse('the recorded columns the expressions read are not columns of the table or of the migration');
  }
  return { ...derived, reads: reads.map((r) => ({ up: [...r.up], down: [...r.down] })) };
}
