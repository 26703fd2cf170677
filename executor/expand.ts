import { RefusedError } from '../phases/errors';
import { derivedNames, expandPlan } from '../phases/plan';
import { MigrationSpec } from '../phases/spec';
import { presentColumns, triggerExists } from './catalog';
import { runDdlTransaction } from './ddl-transaction';
import { openSession, ACTIVE_STEPS } from './session';
import { activeOnTable, ensureStateTable, recordExpanded } from './state';
import { ExecutorOptions, StepResult } from './types';
import { resolveLive } from './validate-live';

/**
 * Expand: new columns (nullable), the pending marker, sync function and trigger, and the state
 * row, all in ONE transaction under a short lock_timeout. Idempotent: a second run checks the
 * catalog agrees and changes nothing.
 */
export async function expand(spec: MigrationSpec, options: ExecutorOptions): Promise<StepResult> {
  const session = await openSession(spec, options, true);
  try {
    const base = { migration: spec.name, table: session.label };
    if (session.step === 'contracted') {
      throw new RefusedError(`${spec.name} is already contracted on ${session.label}; there is nothing to expand`, spec.name);
    }
    if (session.state && ACTIVE_STEPS.includes(session.step)) {
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
      return { ...base, step: session.step, changed: false, message: `already expanded: ${session.label} has the new columns and the sync trigger`, lockRetries: 0 };
    }
    const others = await activeOnTable(session.client, session.table.schema, session.table.name, spec.name);
    if (others.length) {
      throw new RefusedError(`table ${session.label} already has a migration in progress (${others.join(', ')}); contract or roll it back first`, spec.name);
    }
    const resolved = await resolveLive(session, spec);
    await ensureStateTable(session.client);
    options.onProgress?.({ kind: 'step', message: `expanding ${session.label}: ${resolved.mappings.map((m) => m.label).join('; ')}` });
    const run = await runDdlTransaction(session.client, 'expand', { oid: session.table.oid, label: session.label }, expandPlan(resolved), options, (c) =>
      recordExpanded(c, resolved),
    );
    const added = resolved.mappings.flatMap((m) => m.newColumns.map((c) => c.name));
    return {
      ...base,
      step: 'expanded',
      changed: true,
      message: `expanded ${session.label}: added ${added.length ? added.join(', ') : 'no columns'} and the sync trigger`,
      lockRetries: run.retries,
    };
  } finally {
    await session.close();
  }
}
