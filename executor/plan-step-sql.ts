import { MigrationSpec } from '../phases/spec';
import { ExecutorOptions } from './types';

export type SqlStep = 'expand' | 'backfill' | 'contract' | 'rollback';

/** The SQL of one step, as the executor would run it against this database. */
export async function planStepSql(spec: MigrationSpec, step: SqlStep, options: ExecutorOptions): Promise<string> {
  throw new Error('not implemented yet ' + spec.name + step + String(options));
}
