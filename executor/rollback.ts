import { MigrationSpec } from '../phases/spec';
import { ExecutorOptions, StepResult } from './types';

export async function rollback(spec: MigrationSpec, options: ExecutorOptions): Promise<StepResult> {
  throw new Error('not implemented yet: rollback ' + spec.name + String(options));
}
