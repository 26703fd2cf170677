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
import { openSession, recordedSpec } from './session';
import { checkDroppedTablesIdle, recordStep } from './state';
import { ExecutorOptions, StepResult } from './types';
import { checkConsistency, summarize } from './verify';
import { contractAdvice } from './contract-advice';
import { checkContractBlockers, enforcedBeforeContract, runObjectSteps } from './object-steps';

/**
 * Contract: refuses unless verify passes; validates NOT NULL checks (no write-blocking lock);
 * then ONE transaction drops trigger, function and old columns and sets NOT NULL without a scan.
 */
export async function contract(spec: MigrationSpec, options: ExecutorOptions): Promise<StepResult> {
  const session = await openSession(spec, options, { lock: true });
  try {
    const base = { migration: spec.name, table: session.label };
    const table = { oid: session.table.oid, label: session.label };
    if (session.step === 'contracted') {
      // What runs after contract's transaction (DROP INDEX CONCURRENTLY) is finished by any re-run.
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
    const resolved = recordedSpec(session, spec, 'contract');
    const dropped = resolved.mappings.flatMap((m) => m.oldColumns);
    // Indexes this spec drops at contract do not count: they go anyway.
    // Objects carried to the new columns neither: their copies take their names in contract's transaction.
    const ignored = await expectedDependents(session.client, resolved);
    // The sync's own UPDATE OF triggers depend on the old columns; contract drops them first.
    const ours = syncTriggers(resolved).map((t) => t.name);
    const refuseDependents = async () => {
      const dependents = (
        await columnDependents(session.client, session.table.oid, dropped, carriedSequences(resolved))
      ).filter((d) => !ignored.has(d.object) && !ours.some((n) => d.object.startsWith(`trigger ${n} on `)));
      if (dependents.length) {
        throw new RefusedError(
          `contract refused: dropping ${dropped.join(', ')} would also drop ${dependents.map((d) => `${d.object} (on ${d.column})`).join(', ')}; ` +
            `recreate what the new version needs on the new columns (e.g. CREATE INDEX CONCURRENTLY), drop these yourself, then contract${await notCarriedNote(session.client, resolved)}`,
          spec.name,
        );
      }
    };
    await refuseDependents();
    await checkContractBlockers(session.client, resolved);
    await checkDroppedTablesIdle(session.client, resolved);
    const report = await checkConsistency(session.client, resolved);
    if (!report.ok) {
      throw new RefusedError(
        `contract refused: ${summarize(report)}; ${contractAdvice(report).join('; ')}; then run tandem contract SPEC again`,
        spec.name,
      );
    }
    let retries = 0;
    let run: { retries: number };
    try {
      for (const check of validateChecksPlan(resolved)) {
        // VALIDATE scans the table under SHARE UPDATE EXCLUSIVE, which app writes pass: no statement bound.
        // The strict checks refuse what expand's let through (flagged rows): taken back if contract does not commit.
        retries += (
          await runDdlTransaction(session.client, 'contract', table, [check], options, undefined, {
            boundStatements: false,
          })
        ).retries;
      }
      // Only the new versions run now: unique indexes are built and checks and foreign keys enforced
      // (NOT VALID, then VALIDATE), each step on its own; the dependency check then sees them too.
      retries += (
        await runObjectSteps(session.client, 'contract', table, objectSteps(resolved, 'beforeContract'), options)
      ).retries;
      await refuseDependents();
      run = await runDdlTransaction(
        session.client,
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
      message: syncsColumns(resolved)
        ? `contracted ${session.label}: dropped ${dropped.length ? `${dropped.join(', ')}, ` : ''}the sync trigger and function`
        : `contracted ${session.label}: ${(resolved.objects ?? []).map((o) => o.label).join('; ')}`,
      lockRetries: retries + run.retries,
    };
  } finally {
    await session.close();
  }
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
