import { querySingle } from './connection';
import { Client } from 'pg';
import { RefusedError, SpecError } from '../phases/errors';
import {
  carriedSequences,
  derivedNames,
  expandPlan,
  STATE_SCHEMA,
  expandProbes,
  MAX_OPERATIONS,
  objectExpandPlan,
  objectSteps,
  syncTriggers,
} from '../phases/sql/plan';
import { analyseReads } from './expression-reads';
import { MigrationSpec, ResolvedSpec } from '../phases/sql/spec';
import { columnDependents, presentColumns, triggerExists } from './catalog';
import { DdlRun, runDdlTransaction } from './ddl-transaction';
import { openSession, ACTIVE_STEPS, Session } from './session';
import { activeOnTable, checkStateTrusted, recordExpanded, STATE_BOOTSTRAP } from './state';
import { STATE_ACTOR_BOOTSTRAP } from './state-actor';
import { ExecutorOptions, StepResult } from './types';
import { resolveLive } from './validate-live';
import { runObjectSteps } from './object-steps';
import { errorCode, errorMessage } from '../phases/error-fields';
import { expectedDependents, notCarriedNote } from './carried-objects';
import { syncsColumns } from '../phases/sql/carrier';

function objectLabels(resolved: ResolvedSpec): string {
  return (resolved.objects ?? []).map((o) => o.label).join('; ');
}

/**
 * Run expand's probes (see expandProbes), each under a savepoint rolled back: a failure is the
 * spec's fault (exit 2) and undoes expand. They need the expanded table (run them after expand's
 * statements, in the same transaction) and touch no row.
 */
export async function probe(client: Client, resolved: ResolvedSpec): Promise<void> {
  for (const p of expandProbes(resolved)) {
    await client.query('SAVEPOINT _tandem_probe');
    try {
      if (p.prepare) {
        await querySingle(client, `PREPARE _tandem_probe${p.rowType ? `(${p.rowType})` : ''} AS ${p.sql}`);
        await client.query('DEALLOCATE _tandem_probe');
      } else {
        await querySingle(client, p.sql);
      }
    } catch (err) {
      if (errorCode(err) === '55P03' || errorCode(err) === '40P01') throw err; // a lock wait: retried like the rest of expand
      throw new SpecError('operations', `${p.id} fails on this table, so expand was undone: ${errorMessage(err)}`);
    } finally {
      await client.query('ROLLBACK TO SAVEPOINT _tandem_probe').catch(() => undefined);
    }
  }
}

/**
 * The table's own BEFORE ROW INSERT/UPDATE triggers whose names sort after the sync triggers (name
 * order, C collation). Tandem's own triggers (their function lives in the state schema: the sync
 * triggers, set_not_null's fill trigger) are not the app's and are never reported.
 */
async function laterBeforeTriggers(client: Client, resolved: ResolvedSpec): Promise<string[]> {
  if (!syncsColumns(resolved)) return [];
  const ours = syncTriggers(resolved).map((t) => t.name);
  const r = await client.query<{ name: string }>(
    `SELECT t.tgname AS name FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE t.tgrelid = $1 AND NOT t.tgisinternal AND (t.tgtype & 3) = 3 AND (t.tgtype & 20) <> 0
        AND t.tgname COLLATE "C" > $2 COLLATE "C" AND NOT (t.tgname = ANY($3::text[]))
        AND p.pronamespace <> $4::regnamespace
      ORDER BY t.tgname COLLATE "C"`,
    [resolved.table.oid, ours[0], ours, STATE_SCHEMA],
  );
  return r.rows.map((x) => x.name);
}

/**
 * Expand's one transaction: the state schema, the plan, the probes and the state row. `validate`
 * runs exactly this with `rollback`, so it passes only a spec that expand would take.
 */
export async function runExpandTransaction(
  session: Session,
  resolved: ResolvedSpec,
  options: ExecutorOptions,
  how: { rollback?: boolean } = {},
): Promise<DdlRun> {
  const rollback = how.rollback ?? false;
  return runDdlTransaction(
    session.client,
    rollback ? 'validate (expand, rolled back)' : 'expand',
    { oid: session.table.oid, label: session.label },
    [...STATE_BOOTSTRAP, ...STATE_ACTOR_BOOTSTRAP, ...expandPlan(resolved), ...objectExpandPlan(resolved)],
    options,
    async (c) => {
      // CREATE ... IF NOT EXISTS adopts what exists: check again, inside the transaction, whose it is.
      await checkStateTrusted(c, session.table.oid);
      await probe(c, resolved);
      await recordExpanded(c, resolved);
    },
    { rollback },
  );
}

/**
 * What expand refuses because of what the database records of this migration, before anything
 * else (validate refuses the same): a contracted migration's name reused by another spec, and a
 * migration in progress whose new columns or trigger someone removed by hand.
 */
export async function checkRecordedMigration(session: Session, spec: MigrationSpec): Promise<void> {
  if (session.step === 'contracted' && session.state!.specHash !== spec.hash) {
    throw new RefusedError(
      `migration name "${spec.name}" was already used and contracted on ${session.label}; give a new refactoring a new name`,
      spec.name,
    );
  }
  if (session.state && ACTIVE_STEPS.includes(session.step) && syncsColumns(session.state.resolved)) {
    const resolved = session.state.resolved;
    const names = derivedNames(resolved);
    const newCols = resolved.mappings.flatMap((m) => m.newColumns.map((c) => c.name));
    const present = await presentColumns(session.client, session.table.oid, newCols);
    const trigger = await triggerExists(session.client, session.table.oid, names.trigger);
    if (!trigger || present.size !== newCols.length) {
      throw new RefusedError(
        `${spec.name} is recorded as ${session.step} but ${session.label} lacks ${!trigger ? `trigger ${names.trigger}` : 'some new columns'}; someone changed the table by hand: run tandem rollback, then tandem expand`,
        spec.name,
      );
    }
  }
}

/** The spec resolved against the live catalog, its expressions' reads analysed, within the trigger's limits: what expand's transaction runs (validate's too). */
export async function resolveForExpand(session: Session, spec: MigrationSpec): Promise<ResolvedSpec> {
  const resolved = await analyseReads(session.client, await resolveLive(session, spec));
  if (resolved.mappings.length > MAX_OPERATIONS) {
    throw new SpecError(
      'operations',
      `has ${resolved.mappings.length} operations; the sync trigger tracks at most ${MAX_OPERATIONS} per spec, so split it into several migrations`,
    );
  }
  return resolved;
}

type ResultBase = Pick<StepResult, 'migration' | 'table'>;

/**
 * Expand: new columns (nullable), the pending marker, sync function and trigger, and the state
 * row, all in ONE transaction under a short lock_timeout. Idempotent: a second run checks the
 * catalog agrees and changes nothing.
 */
export async function expand(spec: MigrationSpec, options: ExecutorOptions): Promise<StepResult> {
  const session = await openSession(spec, options, { lock: true });
  try {
    const base = { migration: spec.name, table: session.label };
    await checkRecordedMigration(session, spec);
    if (session.step === 'contracted') {
      // Re-running a step that is done is not an error (a Pulumi Command re-runs create on any input change).
      return {
        ...base,
        step: 'contracted',
        changed: false,
        message: `already contracted: ${session.label} has the new shape, nothing to expand`,
        lockRetries: 0,
      };
    }
    if (session.state && ACTIVE_STEPS.includes(session.step)) {
      return await finishExpanded(session, session.state.resolved, options, base);
    }
    await refuseOtherMigrations(session, spec.name);
    const resolved = await resolveForExpand(session, spec);
    options.onProgress?.({
      kind: 'step',
      message: `expanding ${session.label}${resolved.mappings.length ? `: ${resolved.mappings.map((m) => m.label).join('; ')}` : ''}`,
    });
    await noteContractBlockers(session, resolved, options);
    const run = await runExpandTransaction(session, resolved, options);
    // CREATE INDEX CONCURRENTLY cannot run in a transaction: after expand commits (a re-run resumes it).
    const built = await runObjectSteps(
      session.client,
      'expand',
      { oid: session.table.oid, label: session.label },
      objectSteps(resolved, 'afterExpand'),
      options,
    );
    const warnings = await laterTriggerWarnings(session, resolved);
    for (const w of warnings) options.onProgress?.({ kind: 'info', message: `warning: ${w}` });
    return {
      ...base,
      step: 'expanded',
      changed: true,
      message: expandedMessage(session.label, resolved),
      lockRetries: run.retries + built.retries,
      ...(warnings.length ? { warnings } : {}),
    };
  } finally {
    await session.close();
  }
}

/** An expand re-run on a migration in progress: a concurrent index build that failed or was killed after expand committed resumes here. */
async function finishExpanded(
  session: Session,
  resolved: ResolvedSpec,
  options: ExecutorOptions,
  base: ResultBase,
): Promise<StepResult> {
  const built = await runObjectSteps(
    session.client,
    'expand',
    { oid: session.table.oid, label: session.label },
    objectSteps(resolved, 'afterExpand'),
    options,
  );
  if (built.changed)
    return {
      ...base,
      step: session.step,
      changed: true,
      message: `expanded ${session.label}: built the indexes a previous expand left unfinished`,
      lockRetries: built.retries,
    };
  return {
    ...base,
    step: session.step,
    changed: false,
    message: syncsColumns(resolved)
      ? `already expanded: ${session.label} has the new columns and the sync trigger`
      : `already expanded: ${objectLabels(resolved)}`,
    lockRetries: 0,
  };
}

/** Refuses expand while another migration is in progress on the table. */
async function refuseOtherMigrations(session: Session, migration: string): Promise<void> {
  const others = await activeOnTable(session.client, session.table.schema, session.table.name, migration);
  if (others.length) {
    throw new RefusedError(
      `table ${session.label} already has a migration in progress (${others.join(', ')}); contract or roll it back first`,
      migration,
    );
  }
}

/** Tells the operator (a progress note) what depends on the columns contract will drop, so contract would refuse. */
async function noteContractBlockers(session: Session, resolved: ResolvedSpec, options: ExecutorOptions): Promise<void> {
  // What goes with the old columns on purpose (indexes the spec drops, objects carried to the new columns) is not named.
  const expected = await expectedDependents(session.client, resolved);
  const dropping = (
    await columnDependents(
      session.client,
      session.table.oid,
      resolved.mappings.flatMap((m) => m.oldColumns),
      carriedSequences(resolved),
    )
  ).filter((d) => !expected.has(d.object));
  if (dropping.length) {
    options.onProgress?.({
      kind: 'info',
      message: `note: contract will refuse while ${dropping.map((d) => `${d.object} (on ${d.column})`).join(', ')} depend on the columns it drops; recreate what the new version needs on the new columns, then drop these${await notCarriedNote(session.client, resolved)}`,
    });
  }
}

/** The warnings for the app's BEFORE triggers that fire after the sync trigger (see laterBeforeTriggers). */
async function laterTriggerWarnings(session: Session, resolved: ResolvedSpec): Promise<string[]> {
  return (await laterBeforeTriggers(session.client, resolved)).map(
    (name) =>
      `BEFORE trigger ${name} on ${session.label} fires after the sync trigger ${derivedNames(resolved).trigger} (triggers fire in name order): what it changes in a row is not synced; rename it to sort before zz_tandem_sync_`,
  );
}

/** What an expand that changed the table says it did. */
function expandedMessage(label: string, resolved: ResolvedSpec): string {
  const added = resolved.mappings.flatMap((m) => m.newColumns.map((c) => c.name));
  return syncsColumns(resolved)
    ? `expanded ${label}: added ${added.length ? added.join(', ') : 'no columns'} and the sync trigger`
    : `expanded ${label}: ${objectLabels(resolved)} (object operations only: no sync trigger)`;
}
