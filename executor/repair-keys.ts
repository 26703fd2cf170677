import { ClientBase } from 'pg';
import { UsageError } from '../phases/errors';
import { ResolvedSpec } from '../phases/sql/spec';

/**
 * Each key given to repair must be a value of its primary-key column: `--keys abc` for an integer
 * key is bad input (exit 2, naming the value), not "repaired 0 rows". PostgreSQL's own input
 * function decides, so every type (uuid, numeric, a domain) is judged as the table would judge it.
 */
export async function checkRepairKeys(
  client: ClientBase,
  resolved: ResolvedSpec,
  keys: readonly (readonly string[])[],
): Promise<void> {
  for (const [i, column] of resolved.table.primaryKey.entries()) {
    const values = keys.map((k) => k[i]);
    if (await castsAll(client, values, column.type)) continue;
    for (const value of values) {
      if (!(await castsAll(client, [value], column.type))) {
        throw new UsageError(
          `--keys: "${value}" is not a value of the primary key column ${column.name} (${column.type})`,
        );
      }
    }
  }
}

/** Do all these texts cast to the type? Only a data exception (SQLSTATE class 22) means no. */
async function castsAll(client: ClientBase, values: readonly string[], type: string): Promise<boolean> {
  try {
    await client.query(`SELECT v::${type} FROM unnest($1::text[]) AS v`, [values]);
    return true;
  } catch (err) {
    if (typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('22'))
      return false;
    throw err;
  }
}
