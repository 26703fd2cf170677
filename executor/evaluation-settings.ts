import { Client } from 'pg';
import { ResolvedSpec } from '../phases/sql/spec';
import { EVALUATION_SETTINGS, qualifiedFunction } from '../phases/sql/plan';
import { quoteLiteral } from '../phases/sql/identifiers';

/**
 * The search_path `up`/`down` resolve names under, the same in the trigger and in every executor
 * session. Expand's session sets it to the schemas it resolves now, spelled out (`$user` becomes
 * the migrator's schema if it has one, missing schemas drop out, pg_temp goes last), and the sync
 * function keeps that value (`SET search_path FROM CURRENT`); every later session of the migration
 * (backfill, verify, repair, contract, rollback) reads it back from the function and uses it. The
 * app session's search_path never changes what the trigger computes.
 */
export async function pinSearchPath(client: Client, resolved: ResolvedSpec | undefined): Promise<void> {
  if (resolved) {
    // Recorded at expand; a migration expanded before that has it on the sync function's SET clause.
    if (resolved.pinnedPath !== undefined) {
      await client.query(`SELECT set_config('search_path', $1, false)`, [resolved.pinnedPath]);
      return;
    }
    const recorded = await client.query<{ path: string }>(
      `SELECT substr(c, length('search_path=') + 1) AS path
         FROM pg_proc p, unnest(p.proconfig) AS c
        WHERE p.oid = to_regprocedure($1) AND c LIKE 'search_path=%'`,
      [`${qualifiedFunction(resolved)}()`],
    );
    if (recorded.rows[0]) {
      await client.query(`SELECT set_config('search_path', $1, false)`, [recorded.rows[0].path]);
      return;
    }
  }
  await client.query(
    `SELECT set_config('search_path', concat_ws(', ', nullif(array_to_string(ARRAY(SELECT quote_ident(s) FROM unnest(current_schemas(false)) AS s), ', '), ''), 'pg_temp'), false)`,
  );
}

/** The SET statements that give a psql session what an executor session has (for the SQL `tandem plan` prints): the fixed settings and the pinned search_path. */
export async function sessionSettingsScript(client: Client): Promise<string> {
  const path = (await client.query<{ path: string }>(`SELECT current_setting('search_path') AS path`)).rows[0].path;
  return [
    '-- the settings up/down are evaluated under, as in every executor session',
    ...EVALUATION_SETTINGS.map(([name, value]) => `SET ${name} = ${quoteLiteral(value)};`),
    `SET search_path = ${path};`,
    '',
  ].join('\n');
}
