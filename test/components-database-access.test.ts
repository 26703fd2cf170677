import { planAccess, STATE_SCHEMA } from '../phases/sql/access-plan';
import { COMPONENT_TYPES } from '../phases/deploy/resource-side';
import { RecordedResource } from './mocks';
import { runStack, writeSpec } from './stack-run';

const sortKey = (g: { role: string; schema: string; objectType: string }) => `${g.role}/${g.schema}/${g.objectType}`;
const byKey = <T extends { role: string; schema: string; objectType: string }>(xs: T[]) =>
  [...xs].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));

describe('DatabaseAccess in the program', () => {
  let all: RecordedResource[];
  const plan = planAccess({
    schema: 'public',
    migratorRole: 'tandem_migrator',
    appRole: 'tandem_app',
    verify: { role: 'tandem_verify', table: 'customers' },
  });

  beforeAll(async () => {
    all = (await runStack('baseline', writeSpec())).recorder.all;
  });

  const ofType = (t: string) => all.filter((r) => r.type === t);

  it('maps every grant of the access plan (app and verify role) to one postgresql.Grant, and nothing else', () => {
    const grants = ofType('postgresql:index/grant:Grant').map((g) => ({
      role: g.inputs.role,
      objectType: g.inputs.objectType,
      schema: g.inputs.schema,
      objects: g.inputs.objects ?? [],
      privileges: g.inputs.privileges,
    }));
    expect(byKey(grants)).toEqual(byKey(plan.grants.map((g) => ({ ...g }))));
    for (const g of ofType('postgresql:index/grant:Grant')) expect(g.inputs.database).toBe('shop');
  });

  it('gives the verify role SELECT on the migrating table and the state schema, USAGE on both schemas, nothing else', () => {
    const verify = ofType('postgresql:index/grant:Grant').filter((g) => g.inputs.role === 'tandem_verify');
    expect(
      verify
        .map((g) => [g.name, g.inputs.schema, g.inputs.objectType, g.inputs.objects ?? [], g.inputs.privileges])
        .sort(),
    ).toEqual(
      [
        ['tandem-database-tandem_verify-schema', 'public', 'schema', [], ['USAGE']],
        ['tandem-database-tandem_verify-table', 'public', 'table', ['customers'], ['SELECT']],
        [`tandem-database-tandem_verify-${STATE_SCHEMA}-schema`, STATE_SCHEMA, 'schema', [], ['USAGE']],
        [`tandem-database-tandem_verify-${STATE_SCHEMA}-table`, STATE_SCHEMA, 'table', [], ['SELECT']],
      ].sort(),
    );
  });

  it('maps every default privilege of the plan to one postgresql.DefaultPrivileges owned by the migrator', () => {
    const defaults = ofType('postgresql:index/defaultPrivileges:DefaultPrivileges').map((d) => ({
      role: d.inputs.role,
      owner: d.inputs.owner,
      objectType: d.inputs.objectType,
      schema: d.inputs.schema,
      privileges: d.inputs.privileges,
    }));
    expect(byKey(defaults)).toEqual(byKey([...plan.defaultPrivileges]));
  });

  it('declares the state schema owned by the migrator, if-not-exists, never dropped: retained on delete', () => {
    const schemas = ofType('postgresql:index/schema:Schema');
    expect(schemas.map((s) => s.inputs)).toEqual([
      { name: STATE_SCHEMA, owner: 'tandem_migrator', database: 'shop', ifNotExists: true, dropCascade: false },
    ]);
    const state = ofType('postgresql:index/grant:Grant').filter((g) => g.inputs.schema === STATE_SCHEMA);
    for (const g of state) expect(g.dependencies).toContain(schemas[0].urn);
  });

  it('creates the app and verify roles with the passwords from their URLs, as secrets, and no attributes', () => {
    const roles = ofType('postgresql:index/role:Role').sort((a, b) => a.name.localeCompare(b.name));
    expect(roles.map((r) => r.inputs)).toEqual([
      {
        name: 'tandem_app',
        login: true,
        superuser: false,
        createDatabase: false,
        createRole: false,
        roles: [],
        password: 'app-secret',
      },
      {
        name: 'tandem_verify',
        login: true,
        superuser: false,
        createDatabase: false,
        createRole: false,
        roles: [],
        password: 'verify-secret',
      },
    ]);
    for (const r of roles) expect(r.secretInputs).toContain('password');
  });

  it('grants only after their role exists, all under the DatabaseAccess component', () => {
    const parent = ofType(COMPONENT_TYPES.databaseAccess)[0];
    const roles = new Map(ofType('postgresql:index/role:Role').map((r) => [r.inputs.name, r.urn]));
    for (const r of [
      ...ofType('postgresql:index/grant:Grant'),
      ...ofType('postgresql:index/defaultPrivileges:DefaultPrivileges'),
    ]) {
      expect(r.dependencies).toContain(roles.get(r.inputs.role));
      expect(r.parentUrn).toBe(parent.urn);
    }
  });

  it("connects as the migrator through an explicit provider: not a superuser, password secret, the URL's sslmode", () => {
    const providers = ofType('pulumi:providers:postgresql');
    expect(providers).toHaveLength(1);
    expect(providers[0].inputs).toMatchObject({
      host: 'db.example.internal',
      username: 'tandem_migrator',
      database: 'shop',
      password: 'migrator-secret',
      sslmode: 'require',
    });
    // Provider configuration reaches the engine as strings.
    expect([String(providers[0].inputs.port), String(providers[0].inputs.superuser)]).toEqual(['5432', 'false']);
    expect(providers[0].secretInputs).toContain('password');
    expect(providers[0].secretInputs).not.toContain('host');
    for (const r of all.filter((x) => x.type.startsWith('postgresql:')))
      expect(r.provider?.startsWith(`${providers[0].urn}::`)).toBe(true);
  });
});

describe("the postgresql provider's sslmode, with libpq's meaning", () => {
  const sslmodeFor = async (databaseUrl: string) => {
    const run = await runStack('baseline', writeSpec(), { databaseUrl });
    return run.recorder.ofType('pulumi:providers:postgresql')[0].inputs.sslmode;
  };

  it.each([
    ['postgres://tandem_migrator:pw@localhost:5432/shop', 'disable'],
    ['postgres://tandem_migrator:pw@127.0.0.1:5432/shop?sslmode=prefer', 'disable'],
    ['postgres://tandem_migrator:pw@[::1]:5432/shop?sslmode=allow', 'disable'],
    ['postgres://tandem_migrator:pw@db.example.internal/shop?sslmode=disable', 'disable'],
    ['postgres://tandem_migrator:pw@localhost/shop?sslmode=require', 'require'],
    ['postgres://tandem_migrator:pw@db.example.internal/shop?sslmode=verify-full', 'verify-full'],
    ['postgres://tandem_migrator:pw@db.example.internal/shop?sslmode=verify-ca', 'verify-ca'],
  ])("%s gives sslmode %s (the provider's driver would default to require)", async (url, mode) => {
    expect(await sslmodeFor(url)).toBe(mode);
  });
});
