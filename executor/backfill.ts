import { MigrationSpec } from '../phases/spec';
import { BackfillOptions, BackfillResult } from './types';

export async function backfill(spec: MigrationSpec, options: BackfillOptions): Promise<BackfillResult> {
  throw new Error('not implemented yet: backfill ' + spec.name + String(options));
}
