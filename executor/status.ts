import { MigrationSpec } from '../phases/spec';
import { ExecutorOptions, StatusReport } from './types';

export async function status(spec: MigrationSpec, options: ExecutorOptions): Promise<StatusReport> {
  throw new Error('not implemented yet: status ' + spec.name + String(options));
}
