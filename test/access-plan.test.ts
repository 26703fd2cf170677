import { renderAccessSql } from '../phases/sql/access-sql';
import { APP_TABLE_PRIVILEGES, planAccess } from '../phases/sql/access-plan';
import { ConfigError } from '../phases/deploy/config-error';

const plan = planAccess({ schema: 'sales', migratorRole: 'mig', appRole: 'app' });

describe('planAccess', () => {
  it('creates only the app role: login, no attributes, no memberships', () => {
    expect(plan.roles).toEqual([
      { name: 'app', login: true, superuser: false, createDatabase: false, createRole: false, roles: [] },
    ]);
    expect(plan.migrator).toBe('mig');
  });

  it('grants DML only: nothing that changes the schema', () => {
    const privileges = new Set([...plan.grants, ...plan.defaultPrivileges].flatMap((g) => g.privileges));
    for (const ddl of ['CREATE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'ALL']) expect(privileges.has(ddl)).toBe(false);
    expect(plan.grants.find((g) => g.objectType === 'table')?.privileges).toEqual([...APP_TABLE_PRIVILEGES]);
  });

  it.each([
    ['schema', ['USAGE']],
    ['table', ['SELECT', 'INSERT', 'UPDATE', 'DELETE']],
    ['sequence', ['USAGE', 'SELECT']],
  ])('grants on every %s in the schema: %j', (objectType, privileges) => {
    expect(plan.grants.filter((g) => g.objectType === objectType)).toEqual([
      { role: 'app', objectType, schema: 'sales', objects: [], privileges },
    ]);
  });

  it.each([['table'], ['sequence']])('default privileges for %ss the migrator creates later', (objectType) => {
    const d = plan.defaultPrivileges.filter((p) => p.objectType === objectType);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ role: 'app', owner: 'mig', schema: 'sales' });
  });

  it.each([
    [{ appRole: 'mig' }, 'appRole', 'is the migrator role too'],
    [{ appRole: '' }, 'appRole', 'non-empty'],
    [{ appRole: 'public' }, 'appRole', 'reserved'],
    [{ appRole: 'pg_monitor' }, 'appRole', 'reserved'],
    [{ migratorRole: 'x'.repeat(64) }, 'migratorRole', 'longer than 63 bytes'],
  ])('refuses %j', (override, key, message) => {
    const args = { schema: 'sales', migratorRole: 'mig', appRole: 'app', ...override };
    expect(() => planAccess(args)).toThrow(ConfigError);
    expect(() => planAccess(args)).toThrow(new RegExp(`^${key}: .*${message}`));
  });
});

describe('renderAccessSql', () => {
  it('renders the plan as quoted statements, role first', () => {
    expect(renderAccessSql(plan, { app: "it's" })).toEqual([
      `CREATE ROLE "app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD 'it''s';`,
      `GRANT USAGE ON SCHEMA "sales" TO "app";`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "sales" TO "app";`,
      `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "sales" TO "app";`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "mig" IN SCHEMA "sales" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "app";`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "mig" IN SCHEMA "sales" GRANT USAGE, SELECT ON SEQUENCES TO "app";`,
    ]);
  });

  it('quotes odd names', () => {
    const odd = planAccess({ schema: 'we"ird', migratorRole: 'm', appRole: 'a"b' });
    expect(renderAccessSql(odd, {})[0]).toBe(`CREATE ROLE "a""b" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;`);
    expect(renderAccessSql(odd, {})[1]).toBe(`GRANT USAGE ON SCHEMA "we""ird" TO "a""b";`);
  });

  it('names single objects when a grant lists them', () => {
    const one = {
      ...plan,
      grants: [
        { role: 'app', objectType: 'table' as const, schema: 's', objects: ['t1', 't2'], privileges: ['SELECT'] },
      ],
      roles: [],
      defaultPrivileges: [],
    };
    expect(renderAccessSql(one, {})).toEqual([`GRANT SELECT ON TABLE "s"."t1", "s"."t2" TO "app";`]);
  });
});
