/**
 * buildRolloutFromTemplate: the Rollout for a team's own pod template. Tandem sets the named
 * container's image and the release's environment, the version label and the canary with its
 * verify analysis; the rest of the template stays the team's. Validated against the Argo CRD.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { defaultCanarySteps } from '../phases/deploy/canary-steps';
import { ConfigError } from '../phases/deploy/config-error';
import {
  buildRolloutFromTemplate,
  buildRolloutFromWorkload,
  RolloutFromTemplateArgs,
  RolloutFromWorkloadArgs,
  tandemPodTemplate,
} from '../phases/deploy/rollout-template';

function rolloutSchema() {
  const crd = parse(
    fs.readFileSync(path.join(__dirname, 'fixtures', 'argo-rollouts-crds', 'rollout-crd.yaml'), 'utf8'),
  );
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const keyword of [
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
    'x-kubernetes-validations',
  ])
    ajv.addKeyword({ keyword });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('date-time', /./);
  return ajv.compile(crd.spec.versions.find((v: any) => v.name === 'v1alpha1').schema.openAPIV3Schema);
}

const TEAM_TEMPLATE = {
  metadata: { labels: { team: 'checkout' }, annotations: { 'prometheus.io/scrape': 'true' } },
  spec: {
    serviceAccountName: 'shop',
    containers: [
      { name: 'envoy', image: 'envoyproxy/envoy:v1.31.0' },
      {
        name: 'web',
        image: 'placeholder',
        env: [
          { name: 'LOG_LEVEL', value: 'info' },
          { name: 'FEATURE_X', value: 'off' },
        ],
        resources: { limits: { memory: '512Mi' } },
      },
    ],
  },
};

const args = (over: Partial<RolloutFromTemplateArgs> = {}): RolloutFromTemplateArgs => ({
  app: 'shop',
  namespace: 'shop',
  podTemplate: TEAM_TEMPLATE,
  container: 'web',
  release: { image: 'ghcr.io/acme/shop:1.15.0', env: { FEATURE_X: 'on' } },
  appVersion: 'v2',
  replicas: 3,
  steps: defaultCanarySteps('1m'),
  ...over,
});

describe('buildRolloutFromTemplate', () => {
  it("sets only the release on the named container and keeps the rest of the team's template", () => {
    const r = buildRolloutFromTemplate(args());
    const [envoy, web] = r.spec.template.spec.containers;
    expect(envoy).toEqual(TEAM_TEMPLATE.spec.containers[0]);
    expect(web.image).toBe('ghcr.io/acme/shop:1.15.0');
    expect(web.env).toEqual([
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'FEATURE_X', value: 'on' },
    ]);
    expect(web.resources).toEqual({ limits: { memory: '512Mi' } });
    expect(r.spec.template.spec.serviceAccountName).toBe('shop');
    expect(r.spec.template.metadata).toEqual({
      labels: { team: 'checkout', 'app.kubernetes.io/name': 'shop', 'tandem.dev/app-version': 'v2' },
      annotations: { 'prometheus.io/scrape': 'true' },
    });
    expect(TEAM_TEMPLATE.spec.containers[1].image).toBe('placeholder');
  });

  it('gates every analysis step on tandem verify for the release', () => {
    const r = buildRolloutFromTemplate(args());
    const analysis = r.spec.strategy.canary.steps.filter((s: any) => 'analysis' in s);
    expect(analysis).toEqual([
      { analysis: { templates: [{ templateName: 'shop-verify' }], args: [{ name: 'app-version', value: 'v2' }] } },
    ]);
    expect(r.spec.strategy.canary).toMatchObject({ stableService: 'shop-stable', canaryService: 'shop-canary' });
  });

  it('validates against the Argo Rollouts CRD', () => {
    const validate = rolloutSchema();
    expect(validate(buildRolloutFromTemplate(args()))).toBe(true);
  });

  it.each([
    [{ container: 'api' }, 'has no container named api'],
    [{ podTemplate: { spec: { containers: [] } } }, 'has no containers'],
  ])('refuses %j', (over, message) => {
    expect(() => buildRolloutFromTemplate(args(over as Partial<RolloutFromTemplateArgs>))).toThrow(ConfigError);
    expect(() => buildRolloutFromTemplate(args(over as Partial<RolloutFromTemplateArgs>))).toThrow(message);
  });

  it('uses the only container when none is named', () => {
    const one = { spec: { containers: [{ name: 'web', image: 'placeholder' }] } };
    const r = buildRolloutFromTemplate(args({ podTemplate: one, container: undefined }));
    expect(r.spec.template.spec.containers[0].image).toBe('ghcr.io/acme/shop:1.15.0');
  });

  it('refuses to guess among several containers when none is named', () => {
    expect(() => buildRolloutFromTemplate(args({ container: undefined }))).toThrow(
      'container: the pod template has 2 containers (envoy, web); name the one that runs the release',
    );
  });

  it('puts the app role URL under the env var name the team chose, from the app Secret, replacing their own value', () => {
    const withOwn = {
      spec: {
        containers: [
          {
            name: 'web',
            image: 'x',
            env: [
              { name: 'PG_URL', value: 'postgres://stale' },
              { name: 'LOG_LEVEL', value: 'info' },
            ],
          },
        ],
      },
    };
    const r = buildRolloutFromTemplate(args({ podTemplate: withOwn, databaseUrlEnv: 'PG_URL' }));
    expect(r.spec.template.spec.containers[0].env).toEqual([
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'FEATURE_X', value: 'on' },
      { name: 'PG_URL', valueFrom: { secretKeyRef: { name: 'shop-db', key: 'DATABASE_URL' } } },
    ]);
    expect(() => buildRolloutFromTemplate(args({ databaseUrlEnv: 'PG URL' }))).toThrow(
      'databaseUrlEnv: "PG URL" is not an environment variable name',
    );
  });

  it('carries skipAwait and patchForce, as every Rollout Tandem applies', () => {
    expect(buildRolloutFromTemplate(args()).metadata.annotations).toEqual({
      'pulumi.com/skipAwait': 'true',
      'pulumi.com/patchForce': 'true',
    });
  });

  it.each([
    ['no steps', []],
    ['steps without an analysis step', [{ setWeight: 20 }, { pause: {} }, { setWeight: 100 }]],
  ])('refuses a canary with %s: every canary carries a schema change and is gated on tandem verify', (_, steps) => {
    expect(() => buildRolloutFromTemplate(args({ steps: steps as any }))).toThrow(ConfigError);
    expect(() => buildRolloutFromTemplate(args({ steps: steps as any }))).toThrow('steps: has no analysis step');
    expect(() =>
      buildRolloutFromWorkload({
        app: 'shop',
        namespace: 'shop',
        workloadRef: { name: 'shop' },
        appVersion: 'v2',
        replicas: 3,
        steps: steps as any,
      }),
    ).toThrow('steps: has no analysis step');
  });
});

describe('buildRolloutFromWorkload (Argo Rollouts workloadRef)', () => {
  const workload = (over: Partial<RolloutFromWorkloadArgs> = {}): RolloutFromWorkloadArgs => ({
    app: 'shop',
    namespace: 'shop',
    workloadRef: { name: 'shop-web', scaleDown: 'onsuccess' },
    appVersion: 'v1',
    replicas: 3,
    steps: defaultCanarySteps('1m'),
    ...over,
  });

  it('references the Deployment by name with its scaleDown, and has no template of its own', () => {
    const r = buildRolloutFromWorkload(workload());
    expect(r.spec.workloadRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'shop-web',
      scaleDown: 'onsuccess',
    });
    expect(r.spec.template).toBeUndefined();
    expect(r.spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'shop' } });
    expect(r.spec.strategy.canary.steps.filter((s: any) => 'analysis' in s)).toHaveLength(1);
    expect(rolloutSchema()(r)).toBe(true);
  });

  it('scales the Deployment down progressively unless told otherwise', () => {
    expect(buildRolloutFromWorkload(workload({ workloadRef: { name: 'shop-web' } })).spec.workloadRef.scaleDown).toBe(
      'progressively',
    );
  });

  it.each([
    [
      { name: 'shop-web', scaleDown: 'always' },
      'workloadRef.scaleDown: "always" is not one of never, onsuccess, progressively',
    ],
    [{ name: '' }, 'workloadRef.name: must name the Deployment'],
  ])('refuses %j', (ref, message) => {
    expect(() => buildRolloutFromWorkload(workload({ workloadRef: ref as any }))).toThrow(message);
  });

  it("tandemPodTemplate gives the Deployment's template the release and the labels the Rollout selects on", () => {
    const theirs = {
      metadata: { labels: { app: 'shop-web' } },
      spec: {
        serviceAccountName: 'shop',
        containers: [
          { name: 'web', image: 'old' },
          { name: 'log-shipper', image: 'fluent-bit:3' },
        ],
      },
    };
    const t = tandemPodTemplate({
      app: 'shop',
      podTemplate: theirs,
      container: 'web',
      release: { image: 'ghcr.io/acme/shop:1.14.2', env: {} },
      appVersion: 'v1',
      databaseUrlEnv: 'DATABASE_URL',
    });
    expect(t.metadata.labels).toEqual({
      app: 'shop-web',
      'app.kubernetes.io/name': 'shop',
      'tandem.dev/app-version': 'v1',
    });
    expect(t.spec.containers.map((c: any) => c.image)).toEqual(['ghcr.io/acme/shop:1.14.2', 'fluent-bit:3']);
    expect(t.spec.containers[0].env).toEqual([
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'shop-db', key: 'DATABASE_URL' } } },
    ]);
    expect(theirs.spec.containers[0].image).toBe('old');
  });
});
