import { VerifyReport } from './types';

type Report = Pick<
  VerifyReport,
  | 'pendingRows'
  | 'pendingSampleKeys'
  | 'operations'
  | 'syncFailedRows'
  | 'syncFailedSampleKeys'
  | 'raisingRows'
  | 'raisingSampleKeys'
>;

const keys = (sample: readonly string[] | undefined) => (sample ?? []).slice(0, 5).join(', ');

/**
 * The way out of a refused contract, one clause per cause found, each naming the command or the
 * change that fixes THAT cause: the backfill for rows it has not reached (until then every other
 * count includes them); repair only for rows whose sync raised in the trigger (the only rows it
 * touches); a rewrite of the kept side for rows inconsistent without a recorded failure; the data
 * itself for duplicates, check violations and orphans; expand again for an index not built.
 */
export function contractAdvice(report: Report): string[] {
  const advice: string[] = [];
  const checks = report.operations.filter((o) => o.fix !== undefined && o.inconsistentRows > 0);
  if (report.pendingRows > 0) {
    advice.push(
      `run tandem backfill SPEC for the ${report.pendingRows} rows not backfilled yet (e.g. keys ${keys(report.pendingSampleKeys)}); their new columns are still empty, so they count as inconsistent until then`,
    );
  } else {
    const failed = report.syncFailedRows ?? 0;
    if (failed > 0)
      advice.push(
        `run tandem repair SPEC to re-derive the ${failed} rows whose sync raised in the trigger (keys ${keys(report.syncFailedSampleKeys)}) from the side their writer wrote`,
      );
    for (const o of report.operations) {
      if (o.fix !== undefined || o.inconsistentRows <= failed) continue;
      advice.push(
        `${o.operation}: rows inconsistent without a recorded failure (e.g. keys ${keys(o.sampleKeys)}) were written past the sync trigger, which tandem repair does not touch; ` +
          'rewrite the side to keep for those rows (UPDATE ... SET column = column WHERE key IN (...)), and the trigger derives the other',
      );
    }
  }
  if (report.raisingRows) {
    advice.push(
      `fix the rows on which up or down raises (keys ${keys(report.raisingSampleKeys)}), or the spec (tandem rollback SPEC, change it, expand again)`,
    );
  }
  for (const o of report.operations.filter((x) => x.error))
    advice.push(`${o.operation}: fix the rows its check raises on (${o.error})`);
  for (const o of checks)
    advice.push(o.counts === 'index' ? o.fix! : `${o.operation} (e.g. keys ${keys(o.sampleKeys)}): ${o.fix}`);
  return advice;
}
