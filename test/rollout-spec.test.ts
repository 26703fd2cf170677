import { ConfigError } from '../phases/deploy/config-error';
import { defaultCanarySteps, parseCanarySteps, parsePauseDuration } from '../phases/deploy/canary-steps';
import { argoCanarySteps, buildAnalysisTemplate, buildRollout, rolloutNames } from '../phases/deploy/rollout-spec';
import { STAGES, STAGE_TABLE } from '../phases/deploy/stages';
import { planStackState } from '../phases/deploy/stack-state';

describe('canary steps', () => {
  it('the default is setWeight 10, pause, analysis, 50, pause, 90, pause, 100', () => {
    expect(defaultCanarySteps('45s')).toEqual([
      { setWeight: 10 },
      { pause: { duration: '45s' } },
      { analysis: {} },
      { setWeight: 50 },
      { pause: { duration: '45s' } },
      { setWeight: 90 },
      { pause: { duration: '45s' } },
      { setWeight: 100 },
    ]);
  });

  it.each([
    [
      ['setWeight 20', 'analysis'],
      [{ setWeight: 20 }, { analysis: {} }],
    ],
    [
      ['pause', 'analysis'],
      [{ pause: {} }, { analysis: {} }],
    ],
    [
      ['pause 30', 'analysis'],
      [{ pause: { duration: 30 } }, { analysis: {} }],
    ],
    [
      ['  setWeight   5 ', 'pause 2m', 'analysis', 'setWeight 5'],
      [{ setWeight: 5 }, { pause: { duration: '2m' } }, { analysis: {} }, { setWeight: 5 }],
    ],
  ])('parses %j', (input, steps) => {
    expect(parseCanarySteps('tandem:canarySteps', input)).toEqual(steps);
  });

  it.each([
    [[], 'tandem:canarySteps', 'non-empty list'],
    ['setWeight 10', 'tandem:canarySteps', 'non-empty list'],
    [['setWeight 10'], 'tandem:canarySteps', 'no analysis step'],
    [['setWeight ten', 'analysis'], 'tandem:canarySteps[0]', 'whole percentage'],
    [['setWeight 0', 'analysis'], 'tandem:canarySteps[0]', 'whole percentage'],
    [['setWeight 101', 'analysis'], 'tandem:canarySteps[0]', 'whole percentage'],
    [['setWeight 50', 'setWeight 10', 'analysis'], 'tandem:canarySteps[1]', 'only moves forward'],
    [['pause soon', 'analysis'], 'tandem:canarySteps[0]', 'not a pause duration'],
    [['analysis now'], 'tandem:canarySteps[0]', 'takes no argument'],
    [['setWeight 10 20', 'analysis'], 'tandem:canarySteps[0]', 'more than one argument'],
    [['promote', 'analysis'], 'tandem:canarySteps[0]', 'not a step'],
    [[{ setWeight: 10 }, 'analysis'], 'tandem:canarySteps[0]', 'not a step'],
  ])('refuses %j, naming %s', (input, key, message) => {
    let caught: unknown;
    try {
      parseCanarySteps('tandem:canarySteps', input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).key).toBe(key);
    expect((caught as ConfigError).message).toContain(message);
  });

  it.each([
    [30, 30],
    ['30', 30],
    ['30s', '30s'],
    ['5m', '5m'],
    ['1h', '1h'],
  ])('pause duration %j is %j', (input, out) => {
    expect(parsePauseDuration('k', input)).toEqual(out);
  });

  it.each([['5d'], ['-1'], [-1], [1.5], ['s'], [null]])('pause duration %j is refused', (input) => {
    expect(() => parsePauseDuration('k', input)).toThrow(ConfigError);
  });

  it('an analysis step names the AnalysisTemplate and passes the app version; other steps pass through', () => {
    expect(argoCanarySteps([{ setWeight: 10 }, { analysis: {} }, { pause: {} }], 'x-verify', 'v2')).toEqual([
      { setWeight: 10 },
      { analysis: { templates: [{ templateName: 'x-verify' }], args: [{ name: 'app-version', value: 'v2' }] } },
      { pause: {} },
    ]);
  });
});

describe('buildRollout', () => {
  const args = {
    app: 'shop',
    namespace: 'prod',
    image: 'registry.local:5000/shop',
    imageTag: 'v2',
    appVersion: 'v2' as const,
    replicas: 3,
    containerPort: 9000,
    steps: defaultCanarySteps(),
  };
  const rollout = buildRollout(args);
  const names = rolloutNames('shop');

  it('the up does not wait for the Rollout (the walker does), its fields win over other managers, and it wires the stable and canary Services', () => {
    expect(rollout.metadata.annotations).toEqual({ 'pulumi.com/skipAwait': 'true', 'pulumi.com/patchForce': 'true' });
    expect(rollout.spec.strategy.canary.stableService).toBe(names.stableService);
    expect(rollout.spec.strategy.canary.canaryService).toBe(names.canaryService);
  });

  it('runs the image at the stage tag with APP_VERSION and the app-role Secret', () => {
    const c = rollout.spec.template.spec.containers[0];
    expect(c.image).toBe('registry.local:5000/shop:v2');
    expect(c.env).toEqual(
      expect.arrayContaining([
        { name: 'APP_VERSION', value: 'v2' },
        { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: names.appSecret, key: 'DATABASE_URL' } } },
      ]),
    );
  });

  it('selects its pods by a label the pod template carries', () => {
    for (const [k, v] of Object.entries(rollout.spec.selector.matchLabels))
      expect(rollout.spec.template.metadata.labels[k]).toBe(v);
  });

  it.each(STAGES)('%s: APP_VERSION, image tag and the analysis app-version follow the stage table', (stage) => {
    const state = planStackState(stage);
    const r = buildRollout({ ...args, appVersion: state.app.version, imageTag: state.app.imageTag });
    expect(r.spec.template.spec.containers[0].env).toContainEqual({
      name: 'APP_VERSION',
      value: STAGE_TABLE[stage].app,
    });
    expect(r.spec.template.spec.containers[0].image).toBe(`registry.local:5000/shop:${STAGE_TABLE[stage].app}`);
    const analyses = r.spec.strategy.canary.steps.filter((s: any) => s.analysis).map((s: any) => s.analysis.args);
    expect(analyses).toEqual([[{ name: 'app-version', value: STAGE_TABLE[stage].app }]]);
  });
});

describe('buildAnalysisTemplate', () => {
  it('runs `tandem verify /spec/<file> --for-app {{args.app-version}} --json` with the verify Secret and the spec ConfigMap', () => {
    const t = buildAnalysisTemplate({
      app: 'shop',
      namespace: 'prod',
      verifyImage: 'ghcr.io/x/tandem:1',
      specFile: 'split-full-name.yaml',
    });
    const names = rolloutNames('shop');
    expect(t.metadata.name).toBe(names.analysisTemplate);
    // Declared without a value, so an analysis that does not pass the version fails instead of guessing.
    expect(t.spec.args).toEqual([{ name: 'app-version' }]);
    const pod = t.spec.metrics[0].provider.job.spec.template.spec;
    const c = pod.containers[0];
    expect(c.command).toEqual([
      'tandem',
      'verify',
      '/spec/split-full-name.yaml',
      '--for-app',
      '{{args.app-version}}',
      '--json',
    ]);
    expect(c.env).toEqual([
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: names.verifySecret, key: 'DATABASE_URL' } } },
    ]);
    expect(pod.volumes).toEqual([{ name: 'spec', configMap: { name: names.specConfigMap } }]);
    expect(c.volumeMounts[0].mountPath).toBe('/spec');
    expect(pod.restartPolicy).toBe('Never');
  });

  it('retries the verify Job once, so a dropped connection does not abort the canary (an inconsistent table fails both tries)', () => {
    const t = buildAnalysisTemplate({
      app: 'shop',
      namespace: 'prod',
      verifyImage: 'ghcr.io/x/tandem:1',
      specFile: 'split-full-name.yaml',
    });
    const metric = t.spec.metrics[0];
    expect(metric.provider.job.spec.backoffLimit).toBe(1);
    // The retry is the Job's, inside one measurement: the metric itself still fails on its first failed measurement.
    expect({ count: metric.count, failureLimit: metric.failureLimit }).toEqual({ count: 1, failureLimit: 0 });
  });
});
