import { MigrationSpec, ResolvedSpec } from '../phases/spec';
import { ExecutorOptions } from './types';

/** Check the spec against the live catalog and trial-parse every expression; changes nothing. */
export async function validateLive(spec: MigrationSpec, options: ExecutorOptions): Promise<ResolvedSpec> {
  throw new Error('not implemented yet ' + spec.name + String(options));
}
