import * as path from 'path';
import { stackPlansDir } from '../automation/local-driver';
import {
  kubernetesId,
  kubernetesKindOf,
  pendingImports,
  pendingKubernetesObjects,
  recoveryArgs,
} from '../automation/pending-creates';

const DEFAULT_PROVIDER = 'urn:pulumi:dev::tandem::pulumi:providers:kubernetes::default_4_25_0::0c1b';
const op = (type: string, name: string | undefined, extra: Record<string, unknown> = {}) => ({
  type: 'creating',
  resource: {
    urn: `urn:pulumi:dev::tandem::tandem:app:AppRollout$${type}::${name ?? 'anon'}`,
    type,
    provider: DEFAULT_PROVIDER,
    inputs: name === undefined ? {} : { metadata: { name, namespace: 'shop' } },
    ...extra,
  },
});

const exported = {
  deployment: {
    pending_operations: [
      op('kubernetes:core/v1:Secret', 'tandem-demo-db'),
      op('kubernetes:argoproj.io/v1alpha1:Rollout', 'tandem-demo'),
      op('command:local:Command', undefined),
      op('kubernetes:core/v1:ConfigMap', undefined),
      op('kubernetes:core/v1:Service', 'rendered', {
        provider: 'urn:pulumi:dev::tandem::pulumi:providers:kubernetes::render::9f',
      }),
      { type: 'updating', resource: op('kubernetes:core/v1:Service', 'tandem-demo-stable').resource },
    ],
  },
};

describe('pending creates of Kubernetes objects', () => {
  it.each([
    ['kubernetes:core/v1:Secret', { apiVersion: 'v1', kind: 'Secret' }],
    ['kubernetes:argoproj.io/v1alpha1:Rollout', { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' }],
    ['kubernetes:apps/v1:Deployment', { apiVersion: 'apps/v1', kind: 'Deployment' }],
    ['command:local:Command', undefined],
    ['pulumi:providers:kubernetes', undefined],
  ])('kubernetesKindOf(%s)', (type, expected) => {
    expect(kubernetesKindOf(type)).toEqual(expected);
  });

  it('names only the named creates under the default provider: no Command, no render-mode object, no update', () => {
    expect(pendingKubernetesObjects(exported).map((o) => [o.kind, o.namespace, o.name])).toEqual([
      ['Secret', 'shop', 'tandem-demo-db'],
      ['Rollout', 'shop', 'tandem-demo'],
    ]);
  });

  it('imports those that exist in the cluster, with pulumi-kubernetes IDs; the rest are cleared', async () => {
    const imports = await pendingImports(exported, async (o) => o.kind === 'Rollout');
    expect(imports).toEqual([{ urn: exported.deployment.pending_operations[1].resource.urn, id: 'shop/tandem-demo' }]);
    expect(kubernetesId({ name: 'cluster-scoped' })).toBe('cluster-scoped');
    expect(recoveryArgs('acme/tandem/prod', '/work/p', imports)).toEqual([
      'refresh',
      '--cwd',
      '/work/p',
      '--stack',
      'acme/tandem/prod',
      '--import-pending-creates',
      imports[0].urn,
      '--import-pending-creates',
      'shop/tandem-demo',
      '--clear-pending-creates',
      '--yes',
    ]);
  });

  it('without imports, the refresh only clears', () => {
    expect(recoveryArgs('dev', '/p', [])).toEqual([
      'refresh',
      '--cwd',
      '/p',
      '--stack',
      'dev',
      '--clear-pending-creates',
      '--yes',
    ]);
  });
});

describe('stackPlansDir', () => {
  const dir = (s: string) => stackPlansDir('/p', s);

  it("gives each stack a directory of its own: no prefix of another stack's, none shared", () => {
    const names = ['prod', 'prod-eu', 'prod-eu-1', 'a/b', 'a_b', 'a%2fb', 'a.b', '..', '.'];
    const dirs = names.map(dir);
    expect(new Set(dirs).size).toBe(names.length);
    for (const d of dirs) {
      expect(path.dirname(d)).toBe(path.join('/p', '.tandem', 'plans'));
      for (const other of dirs) if (other !== d) expect(other.startsWith(d + path.sep)).toBe(false);
    }
    expect(dir('prod-eu')).toBe('/p/.tandem/plans/prod-eu');
    expect(dir('acme/tandem/prod')).toBe('/p/.tandem/plans/acme%2ftandem%2fprod');
    expect(dir('..')).toBe('/p/.tandem/plans/%2e%2e');
  });
});
