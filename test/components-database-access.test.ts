import { planAccess } from '../phases/sql/access-plan';
import { COMPONENT_TYPES } from '../phases/deploy/resource-side';
import { RecordedResource } from './mocks';
import { runStack, writeSpec } from './stack-run';

describe('DatabaseAccess in the program', () => {
  let all: RecordedResource[];
  const plan = planAccess({ schema: 'public', migratorRole: 'tandem_migrator', appRole: 'tandem_app' });

  beforeAll(async () => {
    all = (await runStack('baseline', writeSpec())).recorder.all;
  });

  const ofType = (t: string) => all.filter((r) => r.type === t);

  it('maps every grant of the access plan to one postgresql.Grant, and nothing else', () => {
    const grants = ofType('postgresql:index/grant:Grant').map((g) => ({
      role: g.inputs.role,
      objectType: g.inputs.objectType,
      schema: g.inputs.schema,
      objects: g.inputs.objects ?? [],
      privileges: g.inputs.privileges,
    }));
    expect(grants.sort((a, b) => a.objectType.localeCompare(b.objectType))).toEqual(
      plan.grants.map((g) => ({ ...g })).sort((a, b) => a.objectType.localeCompare(b.objectType)),
    );
    for (const g of ofType('postgresql:index/grant:Grant')) expect(g.inputs.database).toBe('shop');
  });

  it('maps every default privilege of the plan to one postgresql.DefaultPrivileges owned by the migrator', () => {
    const defaults = ofType('postgresql:index/defaultPrivileges:DefaultPrivileges').map((d) => ({
      role: d.inputs.role,
      owner: d.inputs.owner,
      objectType: d.inputs.objectType,
      schema: d.inputs.schema,
      privileges: d.inputs.privileges,
    }));
    expect(defaults.sort((a, b) => a.objectType.localeCompare(b.objectType))).toEqual([...plan.defaultPrivileges].sort((a, b) => a.objectType.localeCompare(b.objectType)));
  });

  it('creates the app role with the password from tandem:appDatabaseUrl, as a secret, and no attributes', () => {
    const roles = ofType('postgresql:index/role:Role');
    expect(roles).toHaveLength(1);
    expect(roles[0].inputs).toMatchObject({ name: 'tandem_app', login: true, superuser: false, createDatabase: false, createRole: false, roles: [], password: 'app-secret' });
    expect(roles[0].secretInputs).toContain('password');
  });

  it('grants only after the role exists, all under the DatabaseAccess component', () => {
    const parent = ofType(COMPONENT_TYPES.databaseAccess)[0];
    const role = ofType('postgresql:index/role:Role')[0];
    for (const r of [...ofType('postgresql:index/grant:Grant'), ...ofType('postgresql:index/defaultPrivileges:DefaultPrivileges')]) {
      expect(r.dependencies).toContain(role.urn);
      expect(r.parentUrn).toBe(parent.urn);
    }
  });

  it('connects as the migrator through an explicit provider: not a superuser, password secret', () => {
    const providers = ofType('pulumi:providers:postgresql');
    expect(providers).toHaveLength(1);
    expect(providers[0].inputs).toMatchObject({ host: 'db.example.internal', username: 'tandem_migrator', database: 'shop', password: 'migrator-secret' });
    // Provider configuration reaches the engine as strings.
    expect([String(providers[0].inputs.port), String(providers[0].inputs.superuser)]).toEqual(['5432', 'false']);
    expect(providers[0].secretInputs).toContain('password');
    expect(providers[0].secretInputs).not.toContain('host');
    for (const r of all.filter((x) => x.type.startsWith('postgresql:'))) expect(r.provider?.startsWith(`${providers[0].urn}::`)).toBe(true);
  });
});
