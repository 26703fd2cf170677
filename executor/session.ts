import { Client } from 'pg';
import { RefusedError } from '../phases/errors';
import { TableInfo } from '../phases/sql/operations';
import { MigrationSpec, ResolvedSpec } from '../phases/sql/spec';
import { loadTable } from './catalog';
import { connect } from './connection';
import { pinSearchPath } from './evaluation-settings';
import { MigrationInProgressError } from './errors';
import { activeOnTable, checkStateTrusted, readState, MigrationState, trustedResolution } from './state';
import { checkPrivileges, checkRowVisibility, checkTableShape } from './table-checks';
import { announceActor } from './state-actor';
import { lockTable } from './table-lock';
import { ExecutorOptions, MigrationStep } from './types';

export interface Session {
  readonly client: Client;
  readonly table: TableInfo;
  /** schema.table, for messages. */
  readonly label: string;
  readonly state: MigrationState | null;
  /** The step on record, `not_started` when there is none. */
  readonly step: MigrationStep;
  /** Other migrations in progress on the table, when opened with `others: 'allow'` (else a refusal). */
  readonly othersInProgress: readonly string[];
  close(): Promise<void>;
}

export const ACTIVE_STEPS: readonly MigrationStep[] = ['expanded', 'backfilling', 'backfilled'];

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
export async function openSession(spec: MigrationSpec, options: ExecutorOptions, how: SessionOptions = {}): Promise<Session> {
  const { lock = false, allowChangedSpec = false } = how;
  const client = await connect(options.databaseUrl);
  let unlock: (() => Promise<void>) | undefined;
  try {
    // Who runs this step: the state table's trigger records it (executor/state-actor.ts).
    await announceActor(client);
    const table = await loadTable(client, spec);
    const label = `${table.schema}.${table.name}`;
    await checkTableShape(client, table.oid, label);
    if (how.privileges ?? lock) await checkPrivileges(client, table.oid, label);
    if (how.rows ?? true) await checkRowVisibility(client, table.oid, label);
    await checkStateTrusted(client, table.oid);
    if (lock) unlock = await lockTable(client, table.oid, label);
    let state = await readState(client, spec.name);
    if (state && (state.tableSchema !== table.schema || state.tableName !== table.name)) {
      throw new RefusedError(`migration name "${spec.name}" is already used for table ${state.tableSchema}.${state.tableName}; names are unique per database`, spec.name);
    }
    const active = state !== null && ACTIVE_STEPS.includes(state.step);
    const others = active ? [] : await activeOnTable(client, table.schema, table.name, spec.name);
    if (others.length && how.others !== 'allow') throw new MigrationInProgressError(label, others, spec.name);
    if (!allowChangedSpec && state && active && state.specHash !== spec.hash) {
      throw new RefusedError(`the spec "${spec.name}" changed since it was expanded; roll back with the spec as it was, or restore it`, spec.name);
    }
    if (state && active && state.specHash === spec.hash) state = { ...state, resolved: trustedResolution(state, spec, table) };
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
