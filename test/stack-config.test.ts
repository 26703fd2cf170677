import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { ConfigError } from '../phases/deploy/config-error';
import { parseDatabaseUrl, parseLoginUrl } from '../phases/deploy/database-url';
import {
  CONFIG_DEFAULTS,
  RawStackConfig,
  REQUIRED_KEYS,
  resolveStackConfig,
  SECRET_KEYS,
} from '../phases/deploy/stack-config';
import { readPlainConfig, STACK_CONFIG_KEYS } from '../phases/deploy/stack-config-keys';
import { DEFAULT_PAUSE } from '../phases/deploy/canary-steps';
import { planStackState, SCHEMA_COMMANDS } from '../phases/deploy/stack-state';
import { STAGES, STAGE_TABLE } from '../phases/deploy/stages';
import { loadMigrations, MigrationInput } from '../components/tandem-migration';

const MINIMAL: RawStackConfig = { stage: 'expand', appImage: 'ghcr.io/a/app', verifyImage: 'ghcr.io/a/tandem:1' };

function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveStackConfig', () => {
  it('fills every default', () => {
    const c = resolveStackConfig(MINIMAL);
    expect(c).toMatchObject({
      stage: 'expand',
      specPath: CONFIG_DEFAULTS.spec,
      appName: CONFIG_DEFAULTS.appName,
      namespace: CONFIG_DEFAULTS.namespace,
      replicas: CONFIG_DEFAULTS.replicas,
      appPort: CONFIG_DEFAULTS.appPort,
      dbSchema: CONFIG_DEFAULTS.dbSchema,
      migratorRole: CONFIG_DEFAULTS.migratorRole,
      appRole: CONFIG_DEFAULTS.appRole,
    });
    expect(c.steps.filter((s) => 'pause' in s)).toEqual(
      [1, 2, 3].map(() => ({ pause: { duration: CONFIG_DEFAULTS.canaryPause } })),
    );
    expect(c.renderYamlTo).toBeUndefined();
  });

  it.each([
    [{ stage: undefined }, 'tandem:stage', 'is not set'],
    [{ stage: 'migrate' }, 'tandem:stage', 'baseline, expand, dual-write, cleanup, contract'],
    [{ appImage: undefined }, 'tandem:appImage', 'is not set'],
    [{ appImage: 'ghcr.io/a/app:v1' }, 'tandem:appImage', 'carries a tag'],
    [{ appImage: 'ghcr.io/a/app@sha256:abc' }, 'tandem:appImage', 'carries a tag'],
    [{ verifyImage: '' }, 'tandem:verifyImage', 'is not set'],
    [{ replicas: 0 }, 'tandem:replicas', 'from 1 to 100'],
    [{ replicas: 2.5 }, 'tandem:replicas', 'from 1 to 100'],
    [{ appPort: 70000 }, 'tandem:appPort', 'from 1 to 65535'],
    [{ appName: 'Tandem_Demo' }, 'tandem:appName', 'not a Kubernetes name'],
    [{ appName: 'a'.repeat(54) }, 'tandem:appName', 'at most 53'],
    [{ namespace: '-x' }, 'tandem:namespace', 'not a Kubernetes name'],
    [{ canaryPause: 'soon' }, 'tandem:canaryPause', 'not a pause duration'],
    [{ canaryPause: '1m', canarySteps: ['analysis'] }, 'tandem:canaryPause', 'ignored when tandem:canarySteps is set'],
    [{ canarySteps: ['setWeight 10'] }, 'tandem:canarySteps', 'no analysis step'],
  ] as const)('refuses %j, naming %s', (override, key, message) => {
    const err = refusal(() => resolveStackConfig({ ...MINIMAL, ...override }));
    expect(err.key).toBe(key);
    expect(err.message).toContain(message);
  });

  it('accepts a registry with a port in the image repository', () => {
    expect(resolveStackConfig({ ...MINIMAL, appImage: 'localhost:5000/app' }).appImage).toBe('localhost:5000/app');
  });

  it('passes the render directory through', () => {
    expect(resolveStackConfig({ ...MINIMAL, renderYamlTo: 'rendered' }).renderYamlTo).toBe('rendered');
  });
});

describe('planStackState', () => {
  it.each(STAGES)('%s follows the stage table', (stage) => {
    const state = planStackState(stage);
    expect(state.schema.state).toBe(STAGE_TABLE[stage].schema);
    expect(state.schema.commands).toEqual(SCHEMA_COMMANDS[STAGE_TABLE[stage].schema]);
    expect(state.app.version).toBe(STAGE_TABLE[stage].app);
  });

  it('each schema state keeps every Command of the one before it, in the same order', () => {
    const lists = STAGES.map((s) => planStackState(s).schema.commands);
    for (let i = 1; i < lists.length; i++) expect(lists[i].slice(0, lists[i - 1].length)).toEqual(lists[i - 1]);
  });
});

describe('parseDatabaseUrl', () => {
  it('reads every part, decoding percent-escapes', () => {
    expect(parseDatabaseUrl('k', 'postgresql://mig%40r:p%2Fw@db:6543/shop%20x?sslmode=require')).toEqual({
      host: 'db',
      port: 6543,
      username: 'mig@r',
      password: 'p/w',
      database: 'shop x',
      sslmode: 'require',
    });
    expect(parseDatabaseUrl('k', 'postgres://u:p@db/shop')).toEqual({
      host: 'db',
      port: 5432,
      username: 'u',
      password: 'p',
      database: 'shop',
    });
  });

  it.each([
    ['not a url', 'is not a URL'],
    ['mysql://u:p@db/shop', 'scheme mysql'],
    ['postgres://db/shop', 'names no user'],
    ['postgres://u:p@db/', 'names no database'],
  ])('refuses %s', (url, message) => {
    const err = refusal(() => parseDatabaseUrl('tandem:databaseUrl', url));
    expect(err.key).toBe('tandem:databaseUrl');
    expect(err.message).toContain(message);
  });
});

describe("Pulumi.yaml declares the program's configuration", () => {
  const project = parse(fs.readFileSync(path.join(__dirname, '..', 'Pulumi.yaml'), 'utf8'));
  const declared: Record<string, any> = project.config;
  const index = fs.readFileSync(path.join(__dirname, '..', 'index.ts'), 'utf8');
  // Pulumi.yaml cannot type a list of objects (pulumi/pulumi#11321), so tandem:migrations is read
  // but not declared; the file documents it in a comment instead.
  const UNDECLARABLE = ['migrations'];
  // The plain keys are read from the one table (readPlainConfig), the secrets and migrations by name.
  const read = [
    ...(index.includes('readPlainConfig(cfg)')
      ? Object.entries(STACK_CONFIG_KEYS)
          .filter(([, k]) => !('secret' in k))
          .map(([name]) => name)
      : []),
    ...[
      ...index.matchAll(
        /cfg\.(?:get|getNumber|getBoolean|getObject|getSecret|require|requireSecret)(?:<[^>]*>)?\('([A-Za-z]+)'\)/g,
      ),
    ].map((m) => m[1]),
  ].filter((k) => !UNDECLARABLE.includes(k));

  it('documents the keys it cannot declare', () => {
    const text = fs.readFileSync(path.join(__dirname, '..', 'Pulumi.yaml'), 'utf8');
    for (const key of UNDECLARABLE) expect(text).toContain(`# tandem:${key} (not declared here`);
    expect(index).toContain(`cfg.getObject<unknown>('migrations')`);
  });

  it('the program reads config (so this check has something to compare)', () => {
    expect(read.length).toBeGreaterThan(10);
  });

  it('every key the program reads is declared with a type and a description', () => {
    for (const key of new Set(read)) {
      expect({ key, type: typeof declared[key]?.type, description: typeof declared[key]?.description }).toEqual({
        key,
        type: 'string',
        description: 'string',
      });
    }
  });

  it('declares nothing the program does not read', () => {
    expect(Object.keys(declared).sort()).toEqual([...new Set(read)].sort());
  });

  it('secrets are declared secret', () => {
    for (const key of SECRET_KEYS) expect({ key, secret: declared[key].secret }).toEqual({ key, secret: true });
  });

  it('the program requires every secret as a secret: no default, no fallback to another key', () => {
    const required = [...index.matchAll(/cfg\.requireSecret\('([A-Za-z]+)'\)/g)].map((m) => m[1]).sort();
    expect(required).toEqual([...SECRET_KEYS].sort());
    expect(index).not.toMatch(/cfg\.getSecret\(/);
  });

  it('every optional key has a default, since Pulumi requires declared keys without one in every stack (pulumi/pulumi#21797)', () => {
    const optional = Object.keys(declared).filter((k) => !(REQUIRED_KEYS as readonly string[]).includes(k));
    expect(optional.length).toBeGreaterThan(5);
    for (const key of optional)
      expect({ key, hasDefault: declared[key].default !== undefined }).toEqual({ key, hasDefault: true });
  });

  it("the declared empty defaults resolve to the program's defaults", () => {
    const c = resolveStackConfig({
      ...MINIMAL,
      canaryPause: declared.canaryPause.default,
      canarySteps: declared.canarySteps.default,
      renderYamlTo: declared.renderYamlTo.default,
    });
    expect(c.steps).toEqual(resolveStackConfig(MINIMAL).steps);
    expect(c.renderYamlTo).toBeUndefined();
  });

  it('explicit steps with the default pause are accepted', () => {
    const c = resolveStackConfig({
      ...MINIMAL,
      canaryPause: declared.canaryPause.default,
      canarySteps: ['setWeight 20', 'analysis'],
    });
    expect(c.steps).toEqual([{ setWeight: 20 }, expect.objectContaining({ analysis: expect.anything() })]);
  });

  it("required keys have no default; declared defaults equal the program's", () => {
    for (const key of REQUIRED_KEYS)
      expect({ key, default: declared[key].default }).toEqual({ key, default: undefined });
    for (const [key, value] of Object.entries(CONFIG_DEFAULTS))
      expect({ key, default: declared[key].default }).toEqual({ key, default: value });
  });

  it("declares exactly the keys of the one table, each with the table's type, default and secrecy", () => {
    const declaredKeys = Object.fromEntries(
      Object.entries(declared).map(([k, v]) => [k, { type: v.type, default: v.default, secret: v.secret === true }]),
    );
    const table = Object.fromEntries(
      Object.entries(STACK_CONFIG_KEYS).map(([k, v]) => [
        k,
        { type: v.type, default: 'default' in v ? v.default : undefined, secret: 'secret' in v && v.secret === true },
      ]),
    );
    expect(declaredKeys).toEqual(table);
  });

  it('the program reads each plain key with the getter of its type', () => {
    const calls: string[] = [];
    const getter = (kind: string) => (key: string) => void calls.push(`${kind} ${key}`);
    readPlainConfig({
      get: getter('get') as any,
      getNumber: getter('getNumber') as any,
      getBoolean: getter('getBoolean') as any,
    });
    expect(calls).toEqual(
      expect.arrayContaining([
        'getNumber replicas',
        'getNumber appPort',
        'getBoolean manageRoles',
        'get stage',
        'get canarySteps',
      ]),
    );
    expect(calls.filter((c) => /Url$/.test(c))).toEqual([]); // secrets are never read as plain text
    expect(CONFIG_DEFAULTS.canaryPause).toBe(DEFAULT_PAUSE);
  });

  it('Pulumi.dev.yaml sets only declared keys, and resolves', () => {
    const dev = parse(fs.readFileSync(path.join(__dirname, '..', 'Pulumi.dev.yaml'), 'utf8')).config as Record<
      string,
      unknown
    >;
    const keys = Object.keys(dev).map((k) => k.replace(/^tandem:/, ''));
    for (const k of keys.filter((k) => !UNDECLARABLE.includes(k))) expect(declared).toHaveProperty(k);
    const raw = Object.fromEntries(Object.entries(dev).map(([k, v]) => [k.replace(/^tandem:/, ''), v]));
    expect(resolveStackConfig(raw as RawStackConfig).stage).toBe('baseline');
    // The history it shows is valid: two migrations, the second's old release derived.
    const history = loadMigrations(raw.migrations as MigrationInput[], path.join(__dirname, '..'));
    expect(history.map((m) => [m.spec.name, m.releases.old.image, m.releases.new.image])).toEqual([
      ['split-full-name', 'ghcr.io/tandem-dev/tandem-demo:v1', 'ghcr.io/tandem-dev/tandem-demo:v3'],
      ['merge-name', 'ghcr.io/tandem-dev/tandem-demo:v3', 'ghcr.io/tandem-dev/tandem-demo:v1'],
    ]);
  });
});

describe('parseLoginUrl', () => {
  it('returns the connection when the URL logs in as the configured role', () => {
    expect(parseLoginUrl('tandem:appDatabaseUrl', 'postgres://tandem_app:pw@db/shop', 'tandem_app').password).toBe(
      'pw',
    );
  });

  it('names the key and both roles when they differ', () => {
    const err = refusal(() => parseLoginUrl('tandem:appDatabaseUrl', 'postgres://someone:pw@db/shop', 'tandem_app'));
    expect(err.key).toBe('tandem:appDatabaseUrl');
    expect(err.message).toContain('logs in as "someone" but the role is configured as "tandem_app"');
  });
});
