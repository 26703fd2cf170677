import { MigrationSpec } from '../phases/spec';
import { ExecutorOptions, StepResult } from './types';

export async function contract(spec: MigrationSpec, options: ExecutorOptions): Promise<StepResult> {
  throw new Error('not implemented yet: contract ' + spec.name + String(options));
}
