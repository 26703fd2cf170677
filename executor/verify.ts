import { verifySql } from '../phases/plan';
import { MigrationSpec, ResolvedSpec } from '../phases/spec';
import { Client } from 'pg';
import { openSession, ACTIVE_STEPS } from './session';
import { ExecutorOptions, VerifyReport } from './types';

function parseKeys(sample: string[] | null): string[] {
  return (sample ?? []).map((s) => {
    const k = JSON.parse(s) as string[];
    return k.length === 1 ? k[0] : JSON.stringify(k);
  });
}

/** One consistent snapshot: every row satisfies new = up(old) OR old = down(new), and none is pending. */
export async function checkConsistency(client: Client, resolved: ResolvedSpec): Promise<Omit<VerifyReport, 'migration' | 'table' | 'step' | 'message'>> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const row = (await client.query(verifySql(resolved))).rows[0];
    const operations = resolved.mappings.map((m, i) => ({
      operation: m.label,
      inconsistentRows: Number(row[`bad_${i}`]),
      sampleKeys: parseKeys(row[`bad_sample_${i}`]),
    }));
    const pendingRows = Number(row.pending);
    return {
      ok: pendingRows === 0 && operations.every((o) => o.inconsistentRows === 0),
      rows: Number(row.rows),
      pendingRows,
      pendingSampleKeys: parseKeys(row.pending_sample),
      operations,
    };
  } finally {
    await client.query('COMMIT').catch(() => undefined);
  }
}

export function summarize(r: Pick<VerifyReport, 'ok' | 'rows' | 'pendingRows' | 'operations'>): string {
  if (r.ok) return `consistent: all ${r.rows} rows satisfy new = up(old) or old = down(new), none left to backfill`;
  const parts: string[] = [];
  if (r.pendingRows) parts.push(`${r.pendingRows} rows not backfilled yet`);
  for (const o of r.operations) if (o.inconsistentRows) parts.push(`${o.inconsistentRows} rows inconsistent for ${o.operation} (e.g. keys ${o.sampleKeys.slice(0, 5).join(', ')})`);
  return `not consistent: ${parts.join('; ')}`;
}

/** Verify is read-only and takes no lock: the canary analysis Job runs it while the app writes. */
export async function verify(spec: MigrationSpec, options: ExecutorOptions): Promise<VerifyReport> {
  const session = await openSession(spec, options, false);
  try {
    const base = { migration: spec.name, table: session.label, step: session.step };
    if (session.step === 'contracted') {
      return { ...base, ok: true, rows: 0, pendingRows: 0, pendingSampleKeys: [], operations: [], message: 'contracted: the old columns are gone, nothing left to keep in sync' };
    }
    if (!session.state || !ACTIVE_STEPS.includes(session.step)) {
      return { ...base, ok: false, rows: 0, pendingRows: 0, pendingSampleKeys: [], operations: [], message: `not expanded: run tandem expand first` };
    }
    const report = await checkConsistency(session.client, session.state.resolved);
    return { ...base, ...report, message: summarize(report) };
  } finally {
    await session.close();
  }
}
