import { RefusedError } from '../phases/errors';
import { Client } from 'pg';
import {
  carriedSequences,
  contractPlan,
  objectContractPlan,
  objectSteps,
  syncTriggers,
  undoBeforeContract,
  undoStrictChecksPlan,
  validateChecksPlan,
} from '../phases/sql/plan';
import { MigrationSpec, ResolvedSpec } from '../phases/sql/spec';
import { ObjectTask } from '../phases/sql/operations';
import { connect } from './connection';
import { expectedDependents, notCarriedNote } from './carried-objects';
import { syncsColumns } from '../phases/sql/carrier';
import { ContractIncompleteError, isConnectionLoss, StepFailedError } from './errors';
import { columnDependents } from './catalog';
import { runDdlTransaction } from './ddl-transaction';
import { openSession, recordedSpec, Session } from './session';
import { checkDroppedTablesIdle, recordStep } from './state';
import { ExecutorOptions, StepResult } from './types';
import { checkConsistency, summarize } from './verify';
import { contractAdvice } from './contract-advice';
import { checkContractBlockers, enforcedBeforeContract, runObjectSteps } from './object-steps';

type ResultBase = Pick<StepResult, 'migration' | 'table'>;
type TableRef = { oid: number; label: string };

/**
 * Contract: refuses unless verify passes; validates NOT NULL checks (no write-blocking lock);
 * then ONE transaction drops trigger, function and old columns and sets NOT NULL without a scan.
 */
export async function contract(spec: MigrationSpec, options: ExecutorOptions): Promise<StepResult> {
  const session = await openSession(spec, options, { lock: true });
  try {
    const base = { migration: spec.name, table: session.label };
    const table = { oid: session.table.oid, label: session.label };
    if (session.step === 'contracted') return await finishContracted(session, table, options, base);
    const resolved = recordedSpec(session, spec, 'contract');
    const dropped = resolved.mappings.flatMap((m) => m.oldColumns);
    const dependents: DependentsCheck = {
      tableOid: session.table.oid,
      migration: spec.name,
      resolved,
      dropped,
      // Indexes this spec drops at contract do not count: they go anyway.
      // Objects carried to the new columns neither: their copies take their names in contract's transaction.
      ignored: await expectedDependents(session.client, resolved),
      // The sync's own UPDATE OF triggers depend on the old columns; contract drops them first.
      ours: syncTriggers(resolved).map((t) => t.name),
    };
    await refuseDependents(session.client, dependents);
    await checkContractBlockers(session.client, resolved);
    await checkDroppedTablesIdle(session.client, resolved);
    await refuseInconsistent(session.client, resolved, spec.name);
    let retries: number;
    try {
      retries = await runContractSteps(session.client, { spec, resolved, table, dependents }, options);
    } catch (err) {
      // Contract is all or nothing for the app: until its transaction commits an old version may still
      // write (or be walked back to), so what the steps before it enforced is taken back.
      throw await undoEnforced(session.client, spec, resolved, table, options, err);
    }
    retries += (
      await runObjectSteps(session.client, 'contract', table, objectSteps(resolved, 'afterContract'), options)
    ).retries;
    return {
      ...base,
      step: 'contracted',
      changed: true,
      message: contractedMessage(session.label, resolved, dropped),
      lockRetries: retries,
    };
  } finally {
    await session.close();
  }
}

/** A contract re-run: what runs after contract's transaction (DROP INDEX CONCURRENTLY) is finished by any re-run. */
async function finishContracted(
  session: Session,
  table: TableRef,
  options: ExecutorOptions,
  base: ResultBase,
): Promise<StepResult> {
  const after = session.state!.resolved
    ? await runObjectSteps(
        session.client,
        'contract',
        table,
        objectSteps(session.state!.resolved, 'afterContract'),
        options,
      )
    : { changed: false, retries: 0 };
  return {
    ...base,
    step: 'contracted',
    changed: after.changed,
    message: after.changed ? 'contracted: dropped the indexes a previous contract left' : 'already contracted',
    lockRetries: after.retries,
  };
}

/** What contract's dependency check needs: the columns it drops and the dependents that do not count. */
interface DependentsCheck {
  readonly tableOid: number;
  readonly migration: string;
  readonly resolved: ResolvedSpec;
  readonly dropped: string[];
  /** Dependents that go with the old columns on purpose (dropped indexes, carried objects). */
  readonly ignored: Set<string>;
  /** The sync's own triggers, which contract drops first. */
  readonly ours: string[];
}

/** Refuses contract while anything but the expected dependents depends on the columns it drops. */
async function refuseDependents(client: Client, check: DependentsCheck): Promise<void> {
  const { dropped, resolved, ignored, ours } = check;
  const all = await columnDependents(client, check.tableOid, dropped, carriedSequences(resolved));
  const dependents = all.filter(
    (d) => !ignored.has(d.object) && !ours.some((n) => d.object.startsWith(`trigger ${n} on `)),
  );
  if (dependents.length) {
    throw new RefusedError(
      `contract refused: dropping ${dropped.join(', ')} would also drop ${dependents.map((d) => `${d.object} (on ${d.column})`).join(', ')}; ` +
        `recreate what the new version needs on the new columns (e.g. CREATE INDEX CONCURRENTLY), drop these yourself, then contract${await notCarriedNote(client, resolved)}`,
      check.migration,
    );
  }
}

/** Refuses contract unless verify's consistency check passes. */
async function refuseInconsistent(client: Client, resolved: ResolvedSpec, migration: string): Promise<void> {
  const report = await checkConsistency(client, resolved);
  if (!report.ok) {
    throw new RefusedError(
      `contract refused: ${summarize(report)}; ${contractAdvice(report).join('; ')}; then run tandem contract SPEC again`,
      migration,
    );
  }
}

/**
 * Contract's steps up to its commit: VALIDATE the strict checks, the `beforeContract` object steps,
 * the dependency check again, then the one transaction. Returns the lock retries they needed.
 */
async function runContractSteps(
  client: Client,
  what: { spec: MigrationSpec; resolved: ResolvedSpec; table: TableRef; dependents: DependentsCheck },
  options: ExecutorOptions,
): Promise<number> {
  const { spec, resolved, table } = what;
  let retries = 0;
  for (const check of validateChecksPlan(resolved)) {
    // VALIDATE scans the table under SHARE UPDATE EXCLUSIVE, which app writes pass: no statement bound.
    // The strict checks refuse what expand's let through (flagged rows): taken back if contract does not commit.
    retries += (
      await runDdlTransaction(client, 'contract', table, [check], options, undefined, {
        boundStatements: false,
      })
    ).retries;
  }
  // Only the new versions run now: unique indexes are built and checks and foreign keys enforced
  // (NOT VALID, then VALIDATE), each step on its own; the dependency check then sees them too.
  retries += (await runObjectSteps(client, 'contract', table, objectSteps(resolved, 'beforeContract'), options))
    .retries;
  await refuseDependents(client, what.dependents);
  const run = await runDdlTransaction(
    client,
    'contract',
    table,
    [...contractPlan(resolved), ...objectContractPlan(resolved)],
    options,
    async (c) => {
      // Under the locks of the DROP TABLEs: a migration of a dropped table that expanded since is seen (and a later one waits, then finds it gone).
      await checkDroppedTablesIdle(c, resolved);
      await recordStep(c, spec.name, 'contracted');
    },
  );
  return retries + run.retries;
}

/** What a contract that changed the table says it did. */
function contractedMessage(label: string, resolved: ResolvedSpec, dropped: string[]): string {
  return syncsColumns(resolved)
    ? `contracted ${label}: dropped ${dropped.length ? `${dropped.join(', ')}, ` : ''}the sync trigger and function`
    : `contracted ${label}: ${(resolved.objects ?? []).map((o) => o.label).join('; ')}`;
}

/** A step failure after which contract left nothing behind says so; anything else as it is. */
function nothingChanged(e: unknown): unknown {
  return e instanceof StepFailedError ? e.withNothingChanged() : e;
}

/** An error's message without a claim that nothing changed (which is the caller's to make). */
function plainMessage(e: unknown): string {
  if (e instanceof StepFailedError) return `${e.step} failed at "${e.statementId}": ${e.pgMessage}`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * After a contract that did not commit: drop what `beforeContract` enforced (on a new connection if
 * the session's was lost) and return the error to throw: the original one when nothing is left
 * enforced (its "nothing changed" is then true), else one naming what stays and the way out.
 */
async function undoEnforced(
  client: Client,
  spec: MigrationSpec,
  resolved: ResolvedSpec,
  table: { oid: number; label: string },
  options: ExecutorOptions,
  err: unknown,
): Promise<unknown> {
  const undo: ObjectTask[] = [
    ...undoBeforeContract(resolved),
    ...undoStrictChecksPlan(resolved).map((s) => ({ kind: 'transaction' as const, id: s.id, sql: s.sql })),
  ];
  if (!undo.length) return nothingChanged(err);
  let own: Client | undefined;
  try {
    let c = client;
    if (isConnectionLoss(err)) c = own = await connect(options.databaseUrl);
    // A commit whose acknowledgement was lost is a contract that happened: nothing to take back.
    const step = (await c.query(`SELECT step FROM tandem.migrations WHERE name = $1`, [spec.name])).rows[0]?.step;
    if (step === 'contracted') return err;
    // Each on its own: one that fails does not keep the others enforced.
    const failures: string[] = [];
    for (const s of undo) {
      await runObjectSteps(c, 'contract', table, [s], options).catch((e) => failures.push(plainMessage(e)));
    }
    if (!failures.length) return nothingChanged(err);
    const enforced = await enforcedBeforeContract(c, resolved).catch(() => undo.map((s) => s.id.replace(/^undo-/, '')));
    return new ContractIncompleteError(table.label, enforced, plainMessage(err), failures.join('; '));
  } catch (undoErr) {
    return new ContractIncompleteError(
      table.label,
      undo.map((s) => s.id.replace(/^undo-/, '')),
      plainMessage(err),
      plainMessage(undoErr),
    );
  } finally {
    await own?.end().catch(() => undefined);
  }
}
