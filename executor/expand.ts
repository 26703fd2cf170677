import { querySingle } from './connection';
import { Client } from 'pg';
import { RefusedError, SpecError } from '../phases/errors';
import { derivedNames, expandPlan, expandProbes } from '../phases/sql/plan';
import { MigrationSpec, ResolvedSpec } from '../phases/sql/spec';
import { columnDependents, presentColumns, triggerExists } from './catalog';
import { runDdlTransaction } from './ddl-transaction';
import { openSession, ACTIVE_STEPS } from './session';
import { activeOnTable, recordExpanded, STATE_BOOTSTRAP } from './state';
import { STATE_ACTOR_BOOTSTRAP } from './state-actor';
import { ExecutorOptions, StepResult } from './types';
import { resolveLive } from './validate-live';

/** Run expand's probes, each under a savepoint rolled back: a failure is the spec's fault (exit 2) and undoes expand. */
async function probe(client: Client, resolved: ResolvedSpec): Promise<void> {
  for (const p of expandProbes(resolved)) {
    await client.query('SAVEPOINT _tandem_probe');
    try {
      if (p.prepare) {
        await querySingle(client, `PREPARE _tandem_probe AS ${p.sql}`);
        await client.query('DEALLOCATE _tandem_probe');
      } else {
        await querySingle(client, p.sql);
      }
    } catch (err: any) {
      if (err?.code === '55P03' || err?.code === '40P01') throw err; // a lock wait: retried like the rest of expand
      throw new SpecError('operations', `${p.id} fails on this table, so expand was undone: ${err?.message ?? err}`);
    } finally {
      await client.query('ROLLBACK TO SAVEPOINT _tandem_probe').catch(() => undefined);
    }
  }
}

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
      // Re-running a step that is done is not an error (a Pulumi Command re-runs create on any input change).
      if (session.state!.specHash === spec.hash) {
        return { ...base, step: 'contracted', changed: false, message: `already contracted: ${session.label} has the new shape, nothing to expand`, lockRetries: 0 };
      }
      throw new RefusedError(`migration name "${spec.name}" was already used and contracted on ${session.label}; give a new refactoring a new name`, spec.name);
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
    options.onProgress?.({ kind: 'step', message: `expanding ${session.label}: ${resolved.mappings.map((m) => m.label).join('; ')}` });
    const dropping = await columnDependents(session.client, session.table.oid, resolved.mappings.flatMap((m) => m.oldColumns));
    if (dropping.length) {
      options.onProgress?.({
        kind: 'info',
        message: `note: contract will refuse while ${dropping.map((d) => `${d.object} (on ${d.column})`).join(', ')} depend on the columns it drops; recreate what the new version needs on the new columns, then drop these`,
      });
    }
    const run = await runDdlTransaction(session.client, 'expand', { oid: session.table.oid, label: session.label }, [...STATE_BOOTSTRAP, ...STATE_ACTOR_BOOTSTRAP, ...expandPlan(resolved)], options, async (c) => {
      await probe(c, resolved);
      await recordExpanded(c, resolved);
    });
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
