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
import { buildRolloutFromTemplate, RolloutFromTemplateArgs } from '../phases/deploy/rollout-template';

function rolloutSchema() {
  const crd = parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'argo-rollouts-crds', 'rollout-crd.yaml'), 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const keyword of ['x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-validations']) ajv.addKeyword({ keyword });
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
      { name: 'web', image: 'placeholder', env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'FEATURE_X', value: 'off' }], resources: { limits: { memory: '512Mi' } } },
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
    expect(web.env).toEqual([{ name: 'LOG_LEVEL', value: 'info' }, { name: 'FEATURE_X', value: 'on' }]);
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
    expect(analysis).toEqual([{ analysis: { templates: [{ templateName: 'shop-verify' }], args: [{ name: 'app-version', value: 'v2' }] } }]);
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

  it('uses the first container when none is named', () => {
    const r = buildRolloutFromTemplate(args({ container: undefined }));
    expect(r.spec.template.spec.containers[0].image).toBe('ghcr.io/acme/shop:1.15.0');
  });
});
