/** The history and its releases, validated offline: image references, chaining, roles. */
import { ConfigError } from '../phases/deploy/config-error';
import { parseImageReference } from '../phases/deploy/image-reference';
import { currentMigrationIndex, parseMigrationList } from '../phases/deploy/migration-history';
import { planMigrationStage } from '../phases/deploy/migration-stage';
import { parseReleaseKind } from '../phases/deploy/releases';

const D = 'sha256:' + '0123456789abcdef'.repeat(4);

function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('image references', () => {
  it.each([
    'ghcr.io/acme/shop:1.14.2',
    `ghcr.io/acme/shop@${D}`,
    `ghcr.io/acme/shop:1.14.2@${D}`,
    'localhost:5000/shop:dev-3',
    'registry.acme.internal:5000/team/shop/web:1.17.0-rc.1',
    'nginx:1.27',
  ])('accepts %s', (ref) => {
    expect(parseImageReference('k', ref).text).toBe(ref);
  });

  it.each([
    ['ghcr.io/acme/shop', 'names no release'],
    ['ghcr.io/acme/shop:latest', 'pushed last'],
    ['ghcr.io/acme/Shop:1', 'not a valid path component'],
    ['ghcr.io/acme/shop@sha256:abc', 'digest must be sha256'],
    ['ghcr.io/acme/shop:-x', 'the tag'],
    ['ghcr.io/acme/shop :1', 'white space'],
    ['ghcr.io//shop:1', 'not a valid path component'],
    ['', 'must be an image reference'],
  ])('refuses %j (%s)', (ref, why) => {
    expect(refusal(() => parseImageReference('tandem:migrations[0].releases.old', ref)).message).toContain(why);
  });
});

describe('parseMigrationList', () => {
  const m1 = {
    spec: 'a.yaml',
    releases: { old: 'ghcr.io/acme/shop:1.14.2', dual: 'ghcr.io/acme/shop:1.15.0', new: `ghcr.io/acme/shop@${D}` },
  };

  it("derives each migration's old release from the one before it", () => {
    const list = parseMigrationList([
      m1,
      { spec: 'b.yaml', releases: { dual: 'ghcr.io/acme/shop:1.17.0', new: 'ghcr.io/acme/shop:1.18.0' } },
    ]);
    expect(list[1].releases.old).toEqual({ image: `ghcr.io/acme/shop@${D}`, env: {} });
  });

  it('accepts an old release that names the previous new one', () => {
    const list = parseMigrationList([
      m1,
      {
        spec: 'b.yaml',
        releases: { old: `ghcr.io/acme/shop@${D}`, dual: 'ghcr.io/acme/shop:1.17.0', new: 'ghcr.io/acme/shop:1.18.0' },
      },
    ]);
    expect(list).toHaveLength(2);
  });

  it.each([
    [
      [
        m1,
        {
          spec: 'b.yaml',
          releases: {
            old: 'ghcr.io/acme/shop:1.16.0',
            dual: 'ghcr.io/acme/shop:1.17.0',
            new: 'ghcr.io/acme/shop:1.18.0',
          },
        },
      ],
      'tandem:migrations[1].releases.old',
      'the migration before it ends on',
    ],
    [
      [{ spec: 'a.yaml', releases: { dual: 'ghcr.io/acme/shop:1.15.0', new: 'ghcr.io/acme/shop:1.16.0' } }],
      'tandem:migrations[0].releases.old',
      'first migration must name',
    ],
    [
      [{ ...m1, releases: { ...m1.releases, dual: m1.releases.old } }],
      'tandem:migrations[0].releases.dual',
      'same release as old',
    ],
    [
      [{ ...m1, releases: { ...m1.releases, new: m1.releases.dual } }],
      'tandem:migrations[0].releases.new',
      'same release as dual',
    ],
    [
      [{ ...m1, releases: { ...m1.releases, canary: 'x:1' } }],
      'tandem:migrations[0].releases',
      'unknown role(s) canary',
    ],
    [
      [{ ...m1, releases: { ...m1.releases, dual: { image: 'ghcr.io/acme/shop:1.15.0', env: { PORT: '1' } } } }],
      'tandem:migrations[0].releases.dual.env',
      'PORT is set by the Rollout',
    ],
    [
      [{ ...m1, releases: { ...m1.releases, dual: { image: 'ghcr.io/acme/shop:1.15.0', env: { N: 2 } } } }],
      'tandem:migrations[0].releases.dual.env.N',
      'must be a string',
    ],
    [
      [m1, { ...m1, releases: { dual: 'ghcr.io/acme/shop:1.17.0', new: 'ghcr.io/acme/shop:1.18.0' } }],
      'tandem:migrations[1].spec',
      'a spec runs once',
    ],
    [[], 'tandem:migrations', 'non-empty list'],
    [[{ spec: 'a.yaml' }], 'tandem:migrations[0].releases', 'must be { old, dual, new }'],
  ] as const)('refuses %j, naming %s', (raw, key, why) => {
    const err = refusal(() => parseMigrationList(raw as unknown));
    expect(err.key).toBe(key);
    expect(err.message).toContain(why);
  });

  it('picks the current migration by name, the first by default, and refuses an unknown one', () => {
    expect(currentMigrationIndex(['a', 'b'], undefined)).toBe(0);
    expect(currentMigrationIndex(['a', 'b'], 'b')).toBe(1);
    expect(refusal(() => currentMigrationIndex(['a', 'b'], 'c')).key).toBe('tandem:migration');
    expect(refusal(() => currentMigrationIndex(['a', 'b'], 'c')).message).toBe(
      'tandem:migration: "c" is not in tandem:migrations (a, b)',
    );
    // TandemMigration asks the same resolver, in the words of its arguments.
    expect(refusal(() => currentMigrationIndex(['a', 'b'], 'c', 'migration', 'the migrations')).message).toBe(
      'migration: "c" is not in the migrations (a, b)',
    );
  });

  it('the program and TandemMigration resolve the current migration with this one function', () => {
    const fs = require('fs') as typeof import('fs');
    const path = require('path') as typeof import('path');
    for (const file of ['index.ts', 'components/tandem-migration.ts']) {
      const text = fs.readFileSync(path.join(__dirname, '..', file), 'utf8');
      expect({
        file,
        asks: text.includes('currentMigrationIndex('),
        ownLookup: /names\.indexOf\(|history\.find\(\(m\) => m\.spec\.name ===/.test(text),
      }).toEqual({ file, asks: true, ownLookup: false });
    }
  });
});

describe('roles and their aliases', () => {
  it.each([
    ['old', 'old'],
    ['dual', 'dual'],
    ['new', 'new'],
    ['v1', 'old'],
    ['v2', 'dual'],
    ['v3', 'new'],
    ['v4', undefined],
    ['OLD', undefined],
  ])('%s is %s', (value, role) => expect(parseReleaseKind(value)).toBe(role));
});

describe('planMigrationStage', () => {
  it.each([
    [0, 'baseline', 0, 'old', false],
    [0, 'contract', 0, 'new', true],
    [1, 'baseline', 0, 'new', false],
    [1, 'expand', 0, 'new', false],
    [1, 'dual-write', 1, 'dual', false],
    [1, 'contract', 1, 'new', true],
  ] as const)(
    'migration %i at %s: app shows migration %i as %s, Commands retained: %s',
    (m, stage, appMigration, role, retained) => {
      const plan = planMigrationStage(2, { migration: m, stage });
      expect(plan.app).toMatchObject({ migration: appMigration, role });
      expect(plan.schemaChanges).toEqual([expect.objectContaining({ migration: m, retainOnDelete: retained })]);
    },
  );

  it('refuses a position outside the history', () => {
    expect(() => planMigrationStage(2, { migration: 2, stage: 'baseline' })).toThrow(
      'migration 2 is not in a history of 2',
    );
  });
});
