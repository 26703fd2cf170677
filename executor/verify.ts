import { verifySql } from '../phases/sql/plan';
import { MigrationSpec, ResolvedSpec } from '../phases/sql/spec';
import { Client } from 'pg';
import { openSession, ACTIVE_STEPS } from './session';
import { AppVersion, OperationVerify, VerifyOptions, VerifyReport } from './types';
import { runObjectChecks } from './object-steps';
import { keyText, scanRows } from './row-scan';
import { syncsColumns } from '../phases/sql/carrier';

function parseKeys(sample: string[] | null): string[] {
  return (sample ?? []).map((s) => {
    const k = JSON.parse(s) as string[];
    return k.length === 1 ? k[0] : JSON.stringify(k);
  });
}

/**
 * One consistent snapshot: every row satisfies new = up(old) OR old = down(new), and none is pending.
 * A row on which an expression raises (a cast that fails on one value) is counted and named, never
 * a failure of verify itself.
 */
export async function checkConsistency(
  client: Client,
  resolved: ResolvedSpec,
  objectChecks = true,
): Promise<Omit<VerifyReport, 'migration' | 'table' | 'step' | 'message'>> {
  if (!syncsColumns(resolved)) return checkObjectsOnly(client, resolved, objectChecks);
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const scan = await scanRows(client, resolved, (where, expressions) => verifySql(resolved, where, expressions));
    const row = scan.row as Record<string, unknown>;
    const operations: OperationVerify[] = resolved.mappings.map((m, i) => ({
      operation: m.label,
      inconsistentRows: Number(row[`bad_${i}`]),
      sampleKeys: parseKeys(row[`bad_sample_${i}`] as string[] | null),
      lossyRows: Number(row[`lossy_${i}`]),
      lossySampleKeys: parseKeys(row[`lossy_sample_${i}`] as string[] | null),
    }));
    // Indexes built, and the rows a constraint enforced at contract would refuse, in the same snapshot.
    if (objectChecks) operations.push(...(await runObjectChecks(client, resolved)));
    const pendingRows = Number(row.pending);
    const syncFailedRows = Number(row.failed);
    const raisingRows = scan.raising.rows;
    return {
      ok:
        pendingRows === 0 &&
        syncFailedRows === 0 &&
        raisingRows === 0 &&
        operations.every((o) => o.inconsistentRows === 0 && !o.error),
      rows: Number(row.rows),
      pendingRows,
      pendingSampleKeys: parseKeys(row.pending_sample as string[] | null),
      operations,
      syncFailedRows,
      syncFailedSampleKeys: parseKeys(row.failed_sample as string[] | null),
      ...(raisingRows
        ? {
            raisingRows,
            raisingSampleKeys: scan.raising.sampleKeys.map(keyText),
            raisingError: scan.raising.error,
            ...(scan.raising.bounded ? { raisingRowsBounded: true } : {}),
          }
        : {}),
    };
  } finally {
    await client.query('COMMIT').catch(() => undefined);
  }
}

/** An object-only spec: no row is synced, so only the object checks (indexes built, rows a constraint would refuse). */
async function checkObjectsOnly(
  client: Client,
  resolved: ResolvedSpec,
  objectChecks: boolean,
): Promise<Omit<VerifyReport, 'migration' | 'table' | 'step' | 'message'>> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const operations = objectChecks ? await runObjectChecks(client, resolved) : [];
    return {
      ok: operations.every((o) => o.inconsistentRows === 0 && !o.error),
      rows: 0,
      pendingRows: 0,
      pendingSampleKeys: [],
      operations,
      syncFailedRows: 0,
      syncFailedSampleKeys: [],
    };
  } finally {
    await client.query('COMMIT').catch(() => undefined);
  }
}

export function summarize(
  r: Pick<
    VerifyReport,
    | 'ok'
    | 'rows'
    | 'pendingRows'
    | 'operations'
    | 'syncFailedRows'
    | 'syncFailedSampleKeys'
    | 'raisingRows'
    | 'raisingSampleKeys'
    | 'raisingError'
    | 'raisingRowsBounded'
  >,
): string {
  if (r.ok) return `consistent: all ${r.rows} rows satisfy new = up(old) or old = down(new), none left to backfill`;
  const parts: string[] = [];
  if (r.pendingRows) parts.push(`${r.pendingRows} rows not backfilled yet`);
  if (r.syncFailedRows)
    parts.push(
      `${r.syncFailedRows} rows whose sync raised in the trigger (keys ${(r.syncFailedSampleKeys ?? []).slice(0, 5).join(', ')})`,
    );
  if (r.raisingRows)
    parts.push(
      `${r.raisingRowsBounded ? 'up to ' : ''}${r.raisingRows} rows on which an up or down expression raises (keys ${(r.raisingSampleKeys ?? []).slice(0, 5).join(', ')}: ${r.raisingError})`,
    );
  for (const o of r.operations) if (o.error) parts.push(`${o.operation}: the check raised (${o.error})`);
  for (const o of r.operations) {
    if (!o.inconsistentRows) continue;
    parts.push(
      o.counts === 'index'
        ? o.operation
        : `${o.inconsistentRows} rows inconsistent for ${o.operation} (e.g. keys ${o.sampleKeys.slice(0, 5).join(', ')})`,
    );
  }
  return `not consistent: ${parts.join('; ')}`;
}

/** Which app versions can run on the table in each recorded step, when it is not mid-migration. */
const RUNS_WITHOUT_MIGRATION: Record<'original' | 'contracted', readonly AppVersion[]> = {
  original: ['v1'],
  contracted: ['v3'],
};

/**
 * Verify is read-only and takes no lock: the canary analysis Job runs it while the app writes.
 * With `forApp`, it answers for a canary of that version: before expand only v1 can run, after
 * contract only v3; in between, every version can, if the table is consistent and backfilled.
 */
export async function verify(spec: MigrationSpec, options: VerifyOptions): Promise<VerifyReport> {
  const session = await openSession(spec, options);
  try {
    const forApp = options.forApp;
    const base = { migration: spec.name, table: session.label, step: session.step, ...(forApp ? { forApp } : {}) };
    const empty = { rows: 0, pendingRows: 0, pendingSampleKeys: [], operations: [] };
    if (!session.state || !ACTIVE_STEPS.includes(session.step)) {
      const shape = session.step === 'contracted' ? 'contracted' : 'original';
      if (forApp) {
        const ok = RUNS_WITHOUT_MIGRATION[shape].includes(forApp);
        const why =
          shape === 'contracted'
            ? 'the table is contracted: only the new columns remain'
            : 'the table is not expanded: only the old columns exist';
        return { ...base, ...empty, ok, message: `${ok ? `${forApp} can run` : `${forApp} cannot run`}: ${why}` };
      }
      if (shape === 'contracted')
        return {
          ...base,
          ...empty,
          ok: true,
          message: 'contracted: the old columns are gone, nothing left to keep in sync',
        };
      return { ...base, ...empty, ok: false, message: 'not expanded: run tandem expand first' };
    }
    // A canary is served whatever rows a constraint enforced at contract would refuse: those are contract's gate.
    const report = await checkConsistency(session.client, session.state.resolved, !forApp);
    if (forApp === 'v1') {
      // The old version reads the old side: rows the new side wrote through a lossy `down` are not what the new version wrote.
      const lossy = report.operations.filter((o) => (o.lossyRows ?? 0) > 0);
      if (lossy.length) {
        const what = lossy
          .map(
            (o) =>
              `${o.lossyRows} rows for ${o.operation} (e.g. keys ${(o.lossySampleKeys ?? []).slice(0, 5).join(', ')})`,
          )
          .join('; ');
        return {
          ...base,
          ...report,
          ok: false,
          message: `v1 would not see what the new version wrote: up(down(new)) <> new in ${what}; a walk back to v1 loses those writes`,
        };
      }
    }
    return { ...base, ...report, message: summarize(report) };
  } finally {
    await session.close();
  }
}
