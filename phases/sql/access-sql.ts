/**
 * The access plan as SQL: the statements the @pulumi/postgresql provider issues for the same plan,
 * run by the migrator. Used by the tests to prove the privilege model on a real PostgreSQL, and
 * readable by a DBA who wants to see what DatabaseAccess does.
 */
import { AccessPlan, GrantPlan } from './access-plan';
import { quoteIdent, quoteLiteral } from './identifiers';

const PLURAL = { table: 'TABLES', sequence: 'SEQUENCES' } as const;

function grantSql(g: GrantPlan): string {
  const privileges = g.privileges.join(', ');
  const to = quoteIdent(g.role);
  if (g.objectType === 'schema') return `GRANT ${privileges} ON SCHEMA ${quoteIdent(g.schema)} TO ${to};`;
  const kind = g.objectType === 'table' ? 'TABLE' : 'SEQUENCE';
  const on =
    g.objects.length === 0
      ? `ALL ${PLURAL[g.objectType]} IN SCHEMA ${quoteIdent(g.schema)}`
      : `${kind} ${g.objects.map((o) => `${quoteIdent(g.schema)}.${quoteIdent(o)}`).join(', ')}`;
  return `GRANT ${privileges} ON ${on} TO ${to};`;
}

/** `passwords` maps each role of plan.roles to its login password. */
export function renderAccessSql(plan: AccessPlan, passwords: Readonly<Record<string, string>>): string[] {
  const roles = plan.roles.map((r) => {
    const password = passwords[r.name];
    const attrs = [
      r.login ? 'LOGIN' : 'NOLOGIN',
      'NOSUPERUSER',
      'NOCREATEDB',
      'NOCREATEROLE',
      ...(password !== undefined ? [`PASSWORD ${quoteLiteral(password)}`] : []),
    ];
    return `CREATE ROLE ${quoteIdent(r.name)} ${attrs.join(' ')};`;
  });
  const schemas = plan.schemas.map(
    (s) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s.name)} AUTHORIZATION ${quoteIdent(s.owner)};`,
  );
  const defaults = plan.defaultPrivileges.map(
    (d) =>
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(d.owner)} IN SCHEMA ${quoteIdent(d.schema)} GRANT ${d.privileges.join(', ')} ON ${PLURAL[d.objectType]} TO ${quoteIdent(d.role)};`,
  );
  return [...schemas, ...roles, ...plan.grants.map(grantSql), ...defaults];
}
