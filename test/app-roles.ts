import { planAccess } from '../phases/sql/access-plan';
import { renderAccessSql } from '../phases/sql/access-sql';
import { withClient } from './db';

/**
 * What a DBA sets up for each app of a database whose roles Tandem does not manage: its DML-only
 * app role (`<app>_app`) and its read-only verify role (`<app>_verify`) on its table, as Tandem's
 * access plan grants them, run as the migrator that owns the tables.
 */
export async function grantAppRoles(
  migratorUrl: string,
  migrator: string,
  apps: readonly { readonly app: string; readonly table: string }[],
): Promise<void> {
  await withClient(migratorUrl, async (c) => {
    for (const { app, table } of apps) {
      const plan = planAccess({
        schema: 'public',
        migratorRole: migrator,
        appRole: `${app}_app`,
        verify: { role: `${app}_verify`, table },
      });
      for (const st of renderAccessSql(plan, {})) await c.query(st);
    }
  });
}
