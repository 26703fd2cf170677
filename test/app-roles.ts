import { planAccess } from '../phases/sql/access-plan';
import { renderAccessSql } from '../phases/sql/access-sql';
import { withClient } from './db';

/**
 * What a DBA sets up for each app of a database whose roles Tandem does not manage: its DML-only
 * app role and its read-only verify role on its table, as Tandem's access plan grants them, run
 * as the migrator that owns the tables.
 */
export async function grantAppRoles(
  migratorUrl: string,
  migrator: string,
  apps: readonly { readonly appRole: string; readonly verifyRole: string; readonly table: string }[],
): Promise<void> {
  await withClient(migratorUrl, async (c) => {
    for (const { appRole, verifyRole, table } of apps) {
      const plan = planAccess({
        schema: 'public',
        migratorRole: migrator,
        appRole,
        verify: { role: verifyRole, table },
      });
      for (const st of renderAccessSql(plan, {})) await c.query(st);
    }
  });
}
