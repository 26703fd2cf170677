import { RefusedError } from '../phases/errors';
import { contractPlan, syncTriggers, validateChecksPlan } from '../phases/sql/plan';
import { MigrationSpec } from '../phases/sql/spec';
import { columnDependents } from './catalog';
import { runDdlTransaction } from './ddl-transaction';
import { openSession, recordedSpec } from './session';
import { recordStep } from './state';
import { ExecutorOptions, StepResult } from './types';
import { checkConsistency, summarize } from './verify';

/**
 * Contract: refuses unless verify passes; validates NOT NULL checks (no write-blocking lock);
 * then ONE transaction drops trigger, function and old columns and sets NOT NULL without a scan.
 */
export async function contract(spec: MigrationSpec, options: ExecutorOptions): Promise<StepResult> {
  const session = await openSession(spec, options, true);
  try {
    const base = { migration: spec.name, table: session.label };
    if (session.step === 'contracted') return { ...base, step: 'contracted', changed: false, message: 'already contracted', lockRetries: 0 };
    const resolved = recordedSpec(session, spec, 'contract');
    const dropped = resolved.mappings.flatMap((m) => m.oldColumns);
    // The sync's own UPDATE OF triggers depend on the old columns; contract drops them first.
    const ours = syncTriggers(resolved).map((t) => t.name);
    const dependents = (await columnDependents(session.client, session.table.oid, dropped)).filter((d) => !ours.some((n) => d.object.startsWith(`trigger ${n} on `)));
    if (dependents.length) {
      throw new RefusedError(
        `contract refused: dropping ${dropped.join(', ')} would also drop ${dependents.map((d) => `${d.object} (on ${d.column})`).join(', ')}; ` +
          'recreate what the new version needs on the new columns (e.g. CREATE INDEX CONCURRENTLY), drop these yourself, then contract',
        spec.name,
      );
    }
    const report = await checkConsistency(session.client, resolved);
    if (!report.ok) {
      const wayOut: string[] = [];
      if (report.pendingRows) wayOut.push('run tandem backfill for the rows not backfilled');
      if (report.syncFailedRows || report.operations.some((o) => o.inconsistentRows)) {
        const keys = [...new Set([...(report.syncFailedSampleKeys ?? []), ...report.operations.flatMap((o) => o.sampleKeys)])].slice(0, 10);
        wayOut.push(`run tandem repair on this spec to re-derive the inconsistent rows (keys ${keys.join(', ')}) from the side written last`);
      }
      throw new RefusedError(`contract refused: ${summarize(report)}; ${wayOut.join(', and ')}, then tandem verify`, spec.name);
    }
    const table = { oid: session.table.oid, label: session.label };
    let retries = 0;
    const checks = validateChecksPlan(resolved);
    for (const check of checks) {
      retries += (await runDdlTransaction(session.client, 'contract', table, [check], options)).retries;
    }
    const run = await runDdlTransaction(session.client, 'contract', table, contractPlan(resolved), options, (c) => recordStep(c, spec.name, 'contracted'));
    return {
      ...base,
      step: 'contracted',
      changed: true,
      message: `contracted ${session.label}: dropped ${dropped.length ? dropped.join(', ') : 'no columns'}, the sync trigger and function`,
      lockRetries: retries + run.retries,
    };
  } finally {
    await session.close();
  }
}
