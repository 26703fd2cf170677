import { Client } from 'pg';
import { ResolvedSpec } from '../phases/sql/spec';
import { qualifiedFunction } from '../phases/sql/plan';

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
