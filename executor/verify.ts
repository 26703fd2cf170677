import { MigrationSpec } from '../phases/spec';
import { ExecutorOptions, VerifyReport } from './types';

export async function verify(spec: MigrationSpec, options: ExecutorOptions): Promise<VerifyReport> {
  throw new Error('not implemented yet: verify ' + spec.name + String(options));
}
