import { RefusedError } from '../phases/errors';
import { contractPlan, objectContractPlan, objectSteps, syncTriggers, validateChecksPlan } from '../phases/sql/plan';
import { MigrationSpec } from '../phases/sql/spec';
import { columnDependents } from './catalog';
import { runDdlTransaction } from './ddl-transaction';
import { openSession, recordedSpec } from './session';
import { recordStep } from './state';
import { ExecutorOptions, StepResult } from './types';
import { checkConsistency, summarize } from './verify';
import { contractAdvice } from './contract-advice';
import { checkContractBlockers, droppedIndexDescriptions, runObjectSteps } from './object-steps';

/**
 * Contract: refuses unless verify passes; validates NOT NULL checks (no write-blocking lock);
 * then ONE transaction drops trigger, function and old columns and sets NOT NULL without a scan.
 */
export async function contract(spec: MigrationSpec, options: ExecutorOptions): Promise<StepResult> {
  const session = await openSession(spec, options, true);
  try {
    const base = { migration: spec.name, table: session.label };
    const table = { oid: session.table.oid, label: session.label };
    if (session.step === 'contracted') {
      // What runs after contract's transaction (DROP INDEX CONCURRENTLY) is finished by any re-run.
      const after = session.state!.resolved ? await runObjectSteps(session.client, 'contract', table, objectSteps(session.state!.resolved, 'afterContract'), options) : { changed: false, retries: 0 };
      return { ...base, step: 'contracted', changed: after.changed, message: after.changed ? 'contracted: dropped the indexes a previous contract left' : 'already contracted', lockRetries: after.retries };
    }
    const resolved = recordedSpec(session, spec, 'contract');
    const dropped = resolved.mappings.flatMap((m) => m.oldColumns);
    // Indexes this spec drops at contract do not count: they go anyway.
    const ignored = await droppedIndexDescriptions(session.client, resolved);
    // The sync's own UPDATE OF triggers depend on the old columns; contract drops them first.
    const ours = syncTriggers(resolved).map((t) => t.name);
    const refuseDependents = async () => {
      const dependents = (await columnDependents(session.client, session.table.oid, dropped)).filter((d) => !ignored.has(d.object) && !ours.some((n) => d.object.startsWith(`trigger ${n} on `)));
      if (dependents.length) {
        throw new RefusedError(
          `contract refused: dropping ${dropped.join(', ')} would also drop ${dependents.map((d) => `${d.object} (on ${d.column})`).join(', ')}; ` +
            'recreate what the new version needs on the new columns (e.g. CREATE INDEX CONCURRENTLY), drop these yourself, then contract',
          spec.name,
        );
      }
    };
    await refuseDependents();
    await checkContractBlockers(session.client, resolved);
    const report = await checkConsistency(session.client, resolved);
    if (!report.ok) {
      throw new RefusedError(`contract refused: ${summarize(report)}; ${contractAdvice(report).join('; ')}; then run tandem contract SPEC again`, spec.name);
    }
    let retries = 0;
    const checks = validateChecksPlan(resolved);
    for (const check of checks) {
      // VALIDATE scans the table under SHARE UPDATE EXCLUSIVE, which app writes pass: no statement bound.
      retries += (await runDdlTransaction(session.client, 'contract', table, [check], options, undefined, { boundStatements: false })).retries;
    }
    // Only the new versions run now: unique indexes are built and checks and foreign keys enforced
    // (NOT VALID, then VALIDATE), each step on its own; the dependency check then sees them too.
    retries += (await runObjectSteps(session.client, 'contract', table, objectSteps(resolved, 'beforeContract'), options)).retries;
    await refuseDependents();
    const run = await runDdlTransaction(session.client, 'contract', table, [...contractPlan(resolved), ...objectContractPlan(resolved)], options, (c) => recordStep(c, spec.name, 'contracted'));
    retries += (await runObjectSteps(session.client, 'contract', table, objectSteps(resolved, 'afterContract'), options)).retries;
    return {
      ...base,
      step: 'contracted',
      changed: true,
      message: `contracted ${session.label}: dropped ${dropped.length ? `${dropped.join(', ')}, ` : ''}the sync trigger and function`,
      lockRetries: retries + run.retries,
    };
  } finally {
    await session.close();
  }
}
