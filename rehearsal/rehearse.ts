import { MigrationSpec } from '../phases/sql/spec';
import { SpecError } from '../phases/errors';
import { demoShapeOf } from './demo-shape';
import { demoWorkload } from './demo-workload';
import { genericWorkload, SchemaOptions } from './generic-setup';
import { RehearsalReport, reportTable } from './rehearsal-report';
import { RehearsalOptions, runRehearsal, WorkloadSetup } from './run-rehearsal';

export { reportTable };
export type { RehearsalEvent, RehearsalOptions } from './run-rehearsal';
export type { SchemaOptions } from './generic-setup';

export { CANARY_WEIGHTS } from './stage-script';

/** The demo's spec with no schema of the user's: the talk's customers table and the demo app's own v1/v2/v3. */
function isDemo(spec: MigrationSpec, options: SchemaOptions): boolean {
  if (
    options.schemaFile !== undefined ||
    options.schemaFrom !== undefined ||
    options.sample !== undefined ||
    options.breakChecks !== undefined
  )
    return false;
  try {
    demoShapeOf(spec);
    return true;
  } catch (err) {
    if (err instanceof SpecError) return false;
    throw err;
  }
}

/** The workload a spec is rehearsed with: the demo's, or any spec's on a table of the user's shape. */
export function workloadFor(spec: MigrationSpec, options: RehearsalOptions & SchemaOptions): WorkloadSetup {
  return isDemo(spec, options) ? demoWorkload(spec, options) : genericWorkload(spec, options);
}

/**
 * Rehearse a refactoring end to end on a scratch database: one driver (runRehearsal) walks the
 * stages of the stage table under the workload's app traffic and checks every acknowledged write
 * with the same ledger and checker, whether the workload is the demo's (the talk's customers, the
 * demo app's own v1/v2/v3 data layers as traffic) or any other spec's (generic-setup).
 */
export async function rehearse(
  spec: MigrationSpec,
  options: RehearsalOptions & SchemaOptions = {},
): Promise<RehearsalReport> {
  return runRehearsal(spec, options, workloadFor(spec, options));
}
