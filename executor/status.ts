import { derivedNames, objectSteps } from '../phases/sql/plan';
import { indexState } from './object-steps';
import { quoteIdent, quoteQualified } from '../phases/sql/identifiers';
import { MigrationSpec, PENDING_COLUMN } from '../phases/sql/spec';
import { presentColumns, triggerExists } from './catalog';
import { syncsColumns } from '../phases/sql/carrier';
import { enforcedBeforeContract } from './object-steps';
import { ACTIVE_STEPS, openSession } from './session';
import { ExecutorOptions, StatusReport } from './types';

/** The step on record, checked against the live catalog, and the backfill's true progress. */
export async function status(spec: MigrationSpec, options: ExecutorOptions): Promise<StatusReport> {
  // A changed spec is worth reporting, not refusing: status shows the migration as recorded.
  const session = await openSession(spec, options, { allowChangedSpec: true });
  try {
    const { client, state, table } = session;
    const resolved = state?.resolved;
    const newCols = resolved ? resolved.mappings.flatMap((m) => m.newColumns.map((c) => c.name)) : [];
    const oldCols = resolved ? resolved.mappings.flatMap((m) => m.oldColumns) : [];
    const present = await presentColumns(client, table.oid, [...newCols, ...oldCols, PENDING_COLUMN]);
    const trigger = resolved ? await triggerExists(client, table.oid, derivedNames(resolved).trigger) : false;
    let pending: number | null = null;
    let syncFailed: number | null = null;
    if (present.has(PENDING_COLUMN)) {
      const r = await client.query(
        `SELECT count(*) FILTER (WHERE ${quoteIdent(PENDING_COLUMN)}) AS n, count(*) FILTER (WHERE ${quoteIdent(PENDING_COLUMN)} IS NULL) AS failed FROM ${quoteQualified(table.schema, table.name)}`,
      );
      pending = Number(r.rows[0].n);
      syncFailed = Number(r.rows[0].failed);
    }
    const catalog = {
      trigger,
      newColumns: newCols.length > 0 && newCols.every((c) => present.has(c)),
      oldColumns: oldCols.every((c) => present.has(c)),
    };
    const step = session.step;
    // The indexes expand builds after its transaction: one missing or INVALID means expand is not finished.
    const unbuilt: string[] = [];
    if (resolved && ACTIVE_STEPS.includes(step)) {
      for (const s of objectSteps(resolved, 'afterExpand')) {
        if (s.kind === 'index_build' && (await indexState(client, s.schema, s.index)) !== 'valid')
          unbuilt.push(s.index);
      }
    }
    let message: string;
    if (step === 'not_started') message = 'not started: run tandem expand';
    else if (step === 'rolled_back') message = 'rolled back: the table is as before expand';
    else if (step === 'contracted') message = 'contracted: done';
    else if (!trigger && resolved && syncsColumns(resolved))
      message = `recorded as ${step}, but the sync trigger is missing from ${session.label}: the table was changed by hand`;
    else if (pending && pending > 0)
      message = `${step}: ${pending} rows still to backfill${state?.backfillLastKey ? ` (resumes after key ${state.backfillLastKey.join(', ')})` : ''}`;
    else if (unbuilt.length)
      message = `${step}: every row backfilled, but index ${unbuilt.join(', ')} is not built (an interrupted build): run tandem expand SPEC again, which builds it concurrently`;
    else
      message = `${step}: every row backfilled; run tandem verify, then contract when the app no longer uses the old columns`;
    // A contract that did not complete and could not take back what it enforced before its transaction.
    const enforced = resolved && ACTIVE_STEPS.includes(step) ? await enforcedBeforeContract(client, resolved) : [];
    if (enforced.length)
      message += `; contract did not complete, yet enforces ${enforced.join(', ')} although the old version may still write: run tandem contract again to finish, or tandem rollback`;
    if (syncFailed)
      message += `; ${syncFailed} rows whose sync raised in the trigger (their writes went through): run tandem repair`;
    if (state && state.specHash !== spec.hash)
      message += '; NOTE: the spec file changed since expand, and later steps refuse it until it is restored';
    return {
      migration: spec.name,
      table: session.label,
      step,
      specChanged: Boolean(state && state.specHash !== spec.hash),
      backfill: { done: state?.backfillDone ?? 0, pending, lastKey: state?.backfillLastKey ?? null },
      syncFailedRows: syncFailed,
      ...(enforced.length ? { enforcedBeforeContract: enforced } : {}),
      catalog,
      updatedAt: state?.updatedAt ?? null,
      message,
    };
  } finally {
    await session.close();
  }
}
