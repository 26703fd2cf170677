/**
 * Every Rollout and AnalysisTemplate the program declares, in every stage and for custom canary
 * steps, validates against the upstream Argo Rollouts v1.9.1 CRD schemas (vendored in
 * test/fixtures/argo-rollouts-crds/). Unknown fields are refused, as `kubectl apply` with strict
 * field validation would, unless the schema preserves unknown fields.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { defaultCanarySteps, parseCanarySteps } from '../phases/deploy/canary-steps';
import { buildAnalysisTemplate, buildRollout, buildService, RolloutSpecArgs } from '../phases/deploy/rollout-spec';
import { STAGES, STAGE_TABLE, Stage } from '../phases/deploy/stages';
import { RecordedResource } from './mocks';
import { runStack, writeSpec } from './stack-run';

const CRD_DIR = path.join(__dirname, 'fixtures', 'argo-rollouts-crds');

/** Close every object schema that lists properties and does not preserve unknown fields. */
function strict(schema: any): any {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: any = {};
  for (const [k, v] of Object.entries(schema))
    out[k] =
      k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, strict(s)])) : strict(v);
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields'])
    out.additionalProperties = false;
  return out;
}

function compileCrd(file: string): ValidateFunction {
  const crd = parse(fs.readFileSync(path.join(CRD_DIR, file), 'utf8'));
  const version = crd.spec.versions.find((v: any) => v.name === 'v1alpha1');
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const keyword of [
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
    'x-kubernetes-validations',
  ]) {
    ajv.addKeyword({ keyword });
  }
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  return ajv.compile(strict(version.schema.openAPIV3Schema));
}

const validateRollout = compileCrd('rollout-crd.yaml');
const validateTemplate = compileCrd('analysis-template-crd.yaml');

function errorsOf(validate: ValidateFunction, obj: unknown): string[] {
  return validate(obj)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

const ARGS: RolloutSpecArgs = {
  app: 'tandem-demo',
  namespace: 'shop',
  image: 'ghcr.io/tandem-dev/tandem-demo',
  imageTag: 'v2',
  appVersion: 'v2',
  replicas: 4,
  containerPort: 8080,
  steps: defaultCanarySteps(),
};

describe('the validator is not vacuous', () => {
  it.each([
    [
      'a weight written as a word',
      (r: any) => {
        r.spec.strategy.canary.steps[0] = { setWeight: 'ten' };
      },
    ],
    [
      'an unknown step',
      (r: any) => {
        r.spec.strategy.canary.steps.push({ setWieght: 20 });
      },
    ],
    [
      'an unknown canary field',
      (r: any) => {
        r.spec.strategy.canary.stableSvc = 'x';
      },
    ],
    [
      'replicas as a string',
      (r: any) => {
        r.spec.replicas = 'four';
      },
    ],
    [
      'an analysis template without a name field type',
      (r: any) => {
        r.spec.strategy.canary.steps[2].analysis.templates[0].templateName = 7;
      },
    ],
    [
      'an analysis argument whose value is not a string',
      (r: any) => {
        r.spec.strategy.canary.steps[2].analysis.args[0].value = 2;
      },
    ],
    [
      'an analysis argument without a name',
      (r: any) => {
        delete r.spec.strategy.canary.steps[2].analysis.args[0].name;
      },
    ],
  ])('rejects a Rollout with %s', (_label, mutate) => {
    const rollout = buildRollout(ARGS);
    expect(errorsOf(validateRollout, rollout)).toEqual([]);
    mutate(rollout);
    expect(errorsOf(validateRollout, rollout).length).toBeGreaterThan(0);
  });

  it.each([
    [
      'a metric without a provider',
      (t: any) => {
        delete t.spec.metrics[0].provider;
      },
    ],
    [
      'a job provider without a spec',
      (t: any) => {
        delete t.spec.metrics[0].provider.job.spec;
      },
    ],
    [
      'a count that is an object',
      (t: any) => {
        t.spec.metrics[0].count = { n: 1 };
      },
    ],
    [
      'an argument without a name',
      (t: any) => {
        t.spec.args = [{ value: 'v1' }];
      },
    ],
  ])('rejects an AnalysisTemplate with %s', (_label, mutate) => {
    const template = buildAnalysisTemplate({
      app: 'tandem-demo',
      namespace: 'shop',
      verifyImage: 'tandem:1',
      specFile: 's.yaml',
    });
    expect(errorsOf(validateTemplate, template)).toEqual([]);
    mutate(template);
    expect(errorsOf(validateTemplate, template).length).toBeGreaterThan(0);
  });
});

describe('every Rollout and AnalysisTemplate the program declares, in every stage', () => {
  const spec = writeSpec();
  const declared = new Map<Stage, RecordedResource[]>();

  beforeAll(async () => {
    for (const stage of STAGES) declared.set(stage, (await runStack(stage, spec)).recorder.all);
  });

  it.each(STAGES)('%s: the Rollout validates against the Rollout CRD', (stage) => {
    const rollouts = declared.get(stage)!.filter((r) => r.type === 'kubernetes:argoproj.io/v1alpha1:Rollout');
    expect(rollouts).toHaveLength(1);
    expect(errorsOf(validateRollout, rollouts[0].inputs)).toEqual([]);
  });

  it.each(STAGES)('%s: the AnalysisTemplate validates against the AnalysisTemplate CRD', (stage) => {
    const templates = declared.get(stage)!.filter((r) => r.type === 'kubernetes:argoproj.io/v1alpha1:AnalysisTemplate');
    expect(templates).toHaveLength(1);
    expect(errorsOf(validateTemplate, templates[0].inputs)).toEqual([]);
  });

  it.each(STAGES)(
    "%s: every analysis step passes each argument the AnalysisTemplate uses, the app version being the stage's",
    (stage) => {
      const all = declared.get(stage)!;
      const rollout = all.find((r) => r.type === 'kubernetes:argoproj.io/v1alpha1:Rollout')!.inputs;
      const template = all.find((r) => r.type === 'kubernetes:argoproj.io/v1alpha1:AnalysisTemplate')!.inputs;
      const declaredArgs = template.spec.args.map((a: { name: string }) => a.name).sort();
      // Argo resolves {{args.NAME}} anywhere in the metric; an argument used but not declared fails the analysis.
      const used = [...JSON.stringify(template.spec.metrics).matchAll(/\{\{\s*args\.([-\w]+)\s*\}\}/g)].map(
        (m) => m[1],
      );
      expect(used).toEqual(['app-version']);
      expect(declaredArgs).toEqual([...new Set(used)].sort());
      const analyses = rollout.spec.strategy.canary.steps.filter((s: any) => s.analysis).map((s: any) => s.analysis);
      expect(analyses.length).toBeGreaterThan(0);
      for (const a of analyses) {
        expect(a.templates).toEqual([{ templateName: template.metadata.name }]);
        expect(a.args).toEqual([{ name: 'app-version', value: STAGE_TABLE[stage].app }]);
      }
    },
  );

  it('the AnalysisTemplate is the same in every stage: only the Rollout carries the version', () => {
    const templates = STAGES.map(
      (stage) =>
        declared.get(stage)!.find((r) => r.type === 'kubernetes:argoproj.io/v1alpha1:AnalysisTemplate')!.inputs,
    );
    for (const t of templates.slice(1)) expect(t).toEqual(templates[0]);
  });

  it.each(STAGES)(
    '%s: the Services are v1 ClusterIP Services selecting the Rollout pods on the named port',
    (stage) => {
      const all = declared.get(stage)!;
      const rollout = all.find((r) => r.type === 'kubernetes:argoproj.io/v1alpha1:Rollout')!.inputs;
      const podLabels = rollout.spec.template.metadata.labels;
      const portNames = rollout.spec.template.spec.containers[0].ports.map((p: any) => p.name);
      const services = all.filter((r) => r.type === 'kubernetes:core/v1:Service').map((r) => r.inputs);
      expect(services.map((s) => s.metadata.name).sort()).toEqual(
        [rollout.spec.strategy.canary.canaryService, rollout.spec.strategy.canary.stableService].sort(),
      );
      for (const s of services) {
        expect({ apiVersion: s.apiVersion, kind: s.kind, type: s.spec.type, namespace: s.metadata.namespace }).toEqual({
          apiVersion: 'v1',
          kind: 'Service',
          type: 'ClusterIP',
          namespace: rollout.metadata.namespace,
        });
        expect(Object.entries(s.spec.selector).every(([k, v]) => podLabels[k] === v)).toBe(true);
        expect(s.spec.ports).toHaveLength(1);
        const port = s.spec.ports[0];
        expect(Number.isInteger(port.port) && port.port > 0 && port.port < 65536).toBe(true);
        expect(portNames).toContain(port.targetPort);
      }
    },
  );
});

describe('custom canary steps and other settings validate too', () => {
  it.each([
    [['setWeight 20', 'analysis', 'setWeight 100']],
    [['setWeight 5', 'pause', 'analysis', 'setWeight 25', 'pause 90', 'analysis', 'setWeight 100']],
    [['analysis', 'setWeight 50', 'pause 1h', 'setWeight 100']],
    [['setWeight 1', 'pause 10s', 'analysis', 'setWeight 1', 'pause 5m', 'analysis']],
  ])('steps %j', (steps) => {
    const rollout = buildRollout({ ...ARGS, steps: parseCanarySteps('tandem:canarySteps', steps) });
    expect(errorsOf(validateRollout, rollout)).toEqual([]);
    expect(rollout.spec.strategy.canary.steps).toHaveLength(steps.length);
  });

  it.each([
    [{ replicas: 1, containerPort: 3000, appVersion: 'v1', imageTag: 'v1' }],
    [{ replicas: 100, containerPort: 65535, appVersion: 'v3', imageTag: 'v3', namespace: 'a-b' }],
  ] as const)('settings %j', (overrides) => {
    expect(errorsOf(validateRollout, buildRollout({ ...ARGS, ...overrides }))).toEqual([]);
  });

  it('the Services built alone have the same shape', () => {
    for (const role of ['stable', 'canary'] as const) {
      const s = buildService('tandem-demo', 'shop', role);
      expect(s.spec.ports[0]).toEqual({ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' });
    }
  });
});
