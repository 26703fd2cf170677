import * as fs from 'fs';
import { errorCode, errorMessage } from '../phases/error-fields';
import { SpecError } from '../phases/errors';
import { MigrationSpec, parseSpec } from '../phases/sql/spec';

/** Read and parse a spec file (the file system stays out of phases/: parseSpec is pure). */
export function loadSpecFile(path: string): MigrationSpec {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT') throw new SpecError('', `spec file ${path} does not exist`);
    if (code === 'EISDIR') throw new SpecError('', `spec path ${path} is a directory, not a file`);
    throw new SpecError('', `spec file ${path} cannot be read (${code ?? errorMessage(err)})`);
  }
  return parseSpec(text, path);
}
