import { Client } from 'pg';
import { RefusedError } from '../phases/errors';
import { TableInfo } from '../phases/sql/operations';
import { MigrationSpec, ResolvedSpec } from '../phases/sql/spec';
import { loadTable } from './catalog';
import { withCarriedObjects } from './carried-objects';
import { carrierLabel, virtualTableInfo } from '../phases/sql/carrier';
import { CatalogError } from '../phases/errors';
import { connect } from './connection';
import { pinSearchPath } from './evaluation-settings';
import { MigrationInProgressError } from './errors';
import { activeOnTable, checkStateTrusted, readState, MigrationState, trustedResolution } from './state';
import { checkPrivileges, checkRowVisibility, checkTableShape } from './table-checks';
import { announceActor } from './state-actor';
import { lockTable } from './table-lock';
import { ExecutorOptions, MigrationProgress } from './types';

export interface Session {
  readonly client: Client;
  readonly table: TableInfo;
  /** schema.table, for messages. */
  readonly label: string;
  readonly state: MigrationState | null;
  /** The step on record, `not_started` when there is none. */
  readonly step: MigrationProgress;
  /** Other migrations in progress on the table, when opened with `others: 'allow'` (else a refusal). */
  readonly othersInProgress: readonly string[];
  close(): Promise<void>;
}

export const ACTIVE_STEPS: readonly MigrationProgress[] = ['expanded', 'backfilling', 'backfilled'];

/** How a step opens its session: whether it locks the table, and which checks it makes. */
export interface SessionOptions {
  /** Take the table's advisory lock (one executor per table): the steps that change something. */
  readonly lock?: boolean;
  /** Accept a spec that changed since expand (status reports it; no step runs on it). */
  readonly allowChangedSpec?: boolean;
  /** Refuse when row-level security can hide rows from the migrator (default: true). */
  readonly rows?: boolean;
  /** Name missing privileges (table ownership, CREATE for the state schema) up front (default: when locking). */
  readonly privileges?: boolean;
  /** Another migration in progress on the table: refused (default), or allowed and named in the session (`tandem sql`, which plans only). */
  readonly others?: 'refuse' | 'allow';
}

/**
 * Connect, find the table, check what can make a step unsafe on it (its shape, rows the migrator
 * cannot see, privileges, a state schema someone else could write), optionally take its advisory
 * lock, read the recorded state and derive the plan from it again, and refuse a spec whose name
 * belongs to another table, that changed since expand, or that is not the migration in progress
 * on the table.
 */
export async function openSession(
  spec: MigrationSpec,
  options: ExecutorOptions,
  how: SessionOptions = {},
): Promise<Session> {
  const { lock = false, allowChangedSpec = false } = how;
  const client = await connect(options.databaseUrl);
  let unlock: (() => Promise<void>) | undefined;
  try {
    // Who runs this step: the state table's trigger records it (executor/state-actor.ts).
    await announceActor(client);
    const table = spec.virtualTable ? await loadVirtualTable(client, spec) : await loadTable(client, spec);
    const label = carrierLabel(table.schema, table.name);
    if (!spec.virtualTable) {
      await checkTableShape(client, table.oid, label);
      if (how.privileges ?? lock) await checkPrivileges(client, table.oid, label);
      if (how.rows ?? true) await checkRowVisibility(client, table.oid, label);
    }
    await checkStateTrusted(client, table.oid);
    if (lock) unlock = await lockTable(client, table.oid, label);
    let state = await readState(client, spec.name);
    if (state && (state.tableSchema !== table.schema || state.tableName !== table.name)) {
      throw new RefusedError(
        `migration name "${spec.name}" is already used for table ${state.tableSchema}.${state.tableName}; names are unique per database`,
        spec.name,
      );
    }
    const active = state !== null && ACTIVE_STEPS.includes(state.step);
    // A spec without a table shares none with another migration.
    const others = active || table.name === '' ? [] : await activeOnTable(client, table.schema, table.name, spec.name);
    if (others.length && how.others !== 'allow') throw new MigrationInProgressError(label, others, spec.name);
    if (!allowChangedSpec && state && active && state.specHash !== spec.hash) {
      throw new RefusedError(
        `the spec "${spec.name}" changed since it was expanded; roll back with the spec as it was, or restore it`,
        spec.name,
      );
    }
    if (state && active && state.specHash === spec.hash)
      state = { ...state, resolved: await withCarriedObjects(client, trustedResolution(state, spec, table)) };
    await pinSearchPath(client, state && active ? state.resolved : undefined);
    return {
      client,
      table,
      label,
      state,
      step: state?.step ?? 'not_started',
      othersInProgress: others,
      close: async () => {
        if (unlock) await unlock().catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

/**
 * The table of a spec that needs none from the catalog (carrier.ts): in the spec's schema, or the
 * first schema of the search_path. Its advisory lock (oid 0) serializes such specs' steps.
 */
async function loadVirtualTable(client: Client, spec: MigrationSpec): Promise<TableInfo> {
  const r = await client.query<{ schema: string | null; exists: boolean }>(
    `SELECT coalesce($1::text, current_schema()) AS schema, EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = coalesce($1::text, current_schema())) AS exists`,
    [spec.schema ?? null],
  );
  const schema = r.rows[0].schema;
  if (schema === null)
    throw new CatalogError(
      'schema',
      '',
      'no schema: the spec names none and the search_path has no existing schema; add `schema:` to the spec',
    );
  if (!r.rows[0].exists) throw new CatalogError('schema', schema, `schema ${schema} does not exist`);
  return virtualTableInfo(spec.operations, schema, spec.table);
}

/** The resolved spec recorded at expand (later steps plan from it), or a refusal naming what to run first. */
export function recordedSpec(session: Session, spec: MigrationSpec, action: string): ResolvedSpec {
  if (!session.state || !ACTIVE_STEPS.includes(session.step)) {
    const why =
      session.step === 'contracted'
        ? 'it is already contracted'
        : session.step === 'rolled_back'
          ? 'it was rolled back: run tandem expand first'
          : 'it is not expanded yet: run tandem expand first';
    throw new RefusedError(`cannot ${action} ${spec.name} on ${session.label}: ${why}`, spec.name);
  }
  return session.state.resolved;
}
