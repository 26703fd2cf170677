import { MigrationSpec } from '../phases/sql/spec';
import { SpecError } from '../phases/errors';
import { demoShapeOf } from './demo-shape';
import { demoWorkload } from './demo-workload';
import { rehearseGeneric, SchemaOptions } from './generic-rehearse';
import { RehearsalReport, reportTable } from './rehearsal-report';
import { RehearsalOptions, runRehearsal } from './run-rehearsal';

export { reportTable };
export type { RehearsalEvent, RehearsalOptions } from './run-rehearsal';

export { CANARY_WEIGHTS } from './stage-script';

/** The demo's spec with no schema of the user's: the talk's customers table and the demo app's own v1/v2/v3. */
function isDemo(spec: MigrationSpec, options: SchemaOptions): boolean {
  if (options.schemaFile !== undefined || options.schemaFrom !== undefined || options.sample !== undefined) return false;
  try {
    demoShapeOf(spec);
    return true;
  } catch (err) {
    if (err instanceof SpecError) return false;
    throw err;
  }
}

/**
 * Rehearse a refactoring end to end on a scratch database: the demo's spec on the talk's customers
 * with the demo app's own v1/v2/v3 data layers as traffic, any other spec on a table of the user's
 * shape (see rehearseGeneric); either way the stages from the stage table, checking that every
 * acknowledged write survives.
 */
export async function rehearse(spec: MigrationSpec, options: RehearsalOptions & SchemaOptions = {}): Promise<RehearsalReport> {
  if (!isDemo(spec, options)) return rehearseGeneric(spec, options);
  return runRehearsal(spec, options, demoWorkload(spec, options));
}
