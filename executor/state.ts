import { Client } from 'pg';
import { PlanStatement } from '../phases/sql/plan';
import { ResolvedSpec } from '../phases/sql/spec';
import { MigrationStep } from './types';

/**
 * Progress lives in the database, in tandem.migrations, written in the same transaction as the
 * work it records, so `status` tells the truth after a crash.
 */
export interface MigrationState {
  name: string;
  tableSchema: string;
  tableName: string;
  specHash: string;
  step: MigrationStep;
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

async function stateTableExists(client: Client): Promise<boolean> {
  return (await client.query(`SELECT to_regclass('tandem.migrations') IS NOT NULL AS ok`)).rows[0].ok;
}

function fromRow(r: any): MigrationState {
  return {
    name: r.name,
    tableSchema: r.table_schema,
    tableName: r.table_name,
    specHash: r.spec_hash,
    step: r.step,
    resolved: r.resolved,
    backfillLastKey: r.backfill_last_key,
    backfillBound: r.backfill_bound,
    backfillDone: Number(r.backfill_done),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

export async function readState(client: Client, name: string): Promise<MigrationState | null> {
  if (!(await stateTableExists(client))) return null;
  const r = await client.query(`SELECT * FROM tandem.migrations WHERE name = $1`, [name]);
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

/** Record expand (inside expand's transaction). */
export async function recordExpanded(client: Client, resolved: ResolvedSpec): Promise<void> {
  await client.query(
    `INSERT INTO tandem.migrations (name, table_schema, table_name, spec_hash, step, resolved, history)
     VALUES ($1, $2, $3, $4, 'expanded', $5, jsonb_build_array(jsonb_build_object('step', 'expanded', 'at', now())))
     ON CONFLICT (name) DO UPDATE SET table_schema = EXCLUDED.table_schema, table_name = EXCLUDED.table_name,
       spec_hash = EXCLUDED.spec_hash, step = 'expanded', resolved = EXCLUDED.resolved,
       backfill_last_key = NULL, backfill_bound = NULL, backfill_done = 0, started_at = now(), updated_at = now(),
       history = tandem.migrations.history || jsonb_build_array(jsonb_build_object('step', 'expanded', 'at', now()))`,
    [resolved.spec.name, resolved.table.schema, resolved.table.name, resolved.spec.hash, JSON.stringify(resolved)],
  );
}

export async function recordStep(client: Client, name: string, step: MigrationStep, extra: Record<string, unknown> = {}): Promise<void> {
  await client.query(
    `UPDATE tandem.migrations SET step = $2, updated_at = now(),
       history = history || jsonb_build_array(jsonb_build_object('step', $2::text, 'at', now()) || $3::jsonb)
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
  await client.query(`UPDATE tandem.migrations SET backfill_bound = $2, updated_at = now() WHERE name = $1`, [name, bound ? JSON.stringify(bound) : null]);
}
