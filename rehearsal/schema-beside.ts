import * as fs from 'fs';

/**
 * The SQL of the table a spec expects, shipped beside it: `name.yaml` -> `name.schema.sql`. With no
 * --schema and no --schema-from, `tandem rehearse` uses it (and says so) before inferring a table.
 */
export function schemaBeside(specPath: string): string | undefined {
  const candidate = specPath.replace(/\.ya?ml$/i, '') + '.schema.sql';
  return candidate !== specPath && fs.existsSync(candidate) ? candidate : undefined;
}
