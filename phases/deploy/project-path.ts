/**
 * Where a TandemMigration finds its files: the project directory (spec paths are relative to it,
 * and the schema Commands run there), the tandem CLI and the spec files. A path that is not given
 * and cannot be told, or that does not exist, is bad input naming which one.
 */
import { TandemError } from '../errors';

export type ProjectPathWhat = 'projectDir' | 'cliPath';

export class ProjectPathError extends TandemError {
  readonly kind = 'project_path';
  readonly exitCode = 2;
  constructor(
    readonly what: ProjectPathWhat,
    readonly path: string | undefined,
    message: string,
  ) {
    super(`${what}${path === undefined ? '' : ` ${path}`}: ${message}`);
    this.name = 'ProjectPathError';
  }
}

/** The file names Pulumi reads a project from. */
export const PROJECT_FILES = ['Pulumi.yaml', 'Pulumi.yml'] as const;
