import { MigrationSpec } from '../phases/spec';
import { ExecutorOptions, StepResult } from './types';

export async function expand(spec: MigrationSpec, options: ExecutorOptions): Promise<StepResult> {
  throw new Error('not implemented yet: expand ' + spec.name + String(options));
}
