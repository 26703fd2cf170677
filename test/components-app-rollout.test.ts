import * as pulumi from '@pulumi/pulumi';
import { AppRollout } from '../components/app-rollout';
import { defaultCanarySteps } from '../phases/deploy/canary-steps';
import { COMPONENT_TYPES } from '../phases/deploy/resource-side';
import { promiseOf, RecordedResource, recordResources, settled } from './mocks';
import { APP_URL, MIGRATOR_URL, runStack, SPLIT_FULL_NAME_SPEC, VERIFY_URL, writeSpec } from './stack-run';

const spec = writeSpec();
const k8s = (all: RecordedResource[]) => all.filter((r) => r.type.startsWith('kubernetes:'));

describe('AppRollout in the program', () => {
  let all: RecordedResource[];
  beforeAll(async () => {
    all = (await runStack('dual-write', spec, { namespace: 'shop', appName: 'customers' })).recorder.all;
  });

  it('declares its children under one AppRollout with ${name}-<role> names', () => {
    const parent = all.find((r) => r.type === COMPONENT_TYPES.appRollout)!;
    expect(parent.name).toBe('customers');
    expect(
      k8s(all)
        .map((r) => [r.name, r.parentUrn === parent.urn])
        .sort(),
    ).toEqual(
      ['app-db', 'canary', 'rollout', 'spec', 'stable', 'verify', 'verify-db']
        .map((role) => [`customers-${role}`, true])
        .sort(),
    );
  });

  it("puts the connection URLs into Secrets as secrets: the app role for the app, the verify role for verify, never the migrator's", () => {
    const secret = (name: string) => all.find((r) => r.name === name)!;
    expect(secret('customers-app-db').inputs.stringData).toEqual({ DATABASE_URL: APP_URL });
    expect(secret('customers-verify-db').inputs.stringData).toEqual({ DATABASE_URL: VERIFY_URL });
    const inNamespace = JSON.stringify(k8s(all).map((r) => r.inputs));
    expect(inNamespace).not.toContain(new URL(MIGRATOR_URL).password);
    for (const name of ['customers-app-db', 'customers-verify-db']) {
      expect(secret(name).secretInputs.some((p) => p.startsWith('stringData'))).toBe(true);
      expect(secret(name).inputs.metadata.namespace).toBe('shop');
    }
  });

  it('mounts the spec for the verify Job from a ConfigMap', () => {
    expect(all.find((r) => r.name === 'customers-spec')!.inputs.data).toEqual({
      'split-full-name.yaml': SPLIT_FULL_NAME_SPEC,
    });
  });

  it("creates the Rollout after its Secret, Services and AnalysisTemplate, and after the schema side's Commands (so a destroy stops the app before expand's rollback)", () => {
    const rollout = all.find((r) => r.name === 'customers-rollout')!;
    const deps = rollout.dependencies.map((u) => all.find((r) => r.urn === u)!.name).sort();
    const commands = all.filter((r) => r.type === 'command:local:Command').map((r) => r.name);
    expect(commands.length).toBeGreaterThan(0);
    expect(deps).toEqual(
      ['customers-app-db', 'customers-canary', 'customers-stable', 'customers-verify', ...commands].sort(),
    );
  });

  it('applies to the ambient cluster when no render directory is set', () => {
    expect(all.filter((r) => r.type === 'pulumi:providers:kubernetes')).toEqual([]);
  });

  it('the verify Secret holds exactly tandem:verifyDatabaseUrl', async () => {
    const other = 'postgres://readonly:pw@10.0.0.5:5432/shop';
    const run = (await runStack('dual-write', spec, { verifyDatabaseUrl: other, verifyRole: 'readonly' })).recorder;
    expect(run.named('tandem-demo-verify-db').inputs.stringData).toEqual({ DATABASE_URL: other });
  });
});

describe('render mode (tandem:renderYamlTo)', () => {
  it('routes every Kubernetes resource through a provider that renders YAML to the directory', async () => {
    const all = (await runStack('cleanup', spec, { renderYamlTo: 'rendered' })).recorder.all;
    const providers = all.filter((r) => r.type === 'pulumi:providers:kubernetes');
    expect(providers).toHaveLength(1);
    expect(providers[0].inputs.renderYamlToDirectory).toBe('rendered');
    const resources = k8s(all);
    expect(resources).toHaveLength(7);
    for (const r of resources) expect(r.provider?.startsWith(`${providers[0].urn}::`)).toBe(true);
  });
});

describe('AppRollout on its own', () => {
  it('exposes the Rollout as a child whose URN carries the component type, and its inputs as outputs', async () => {
    const recorder = await recordResources();
    const component = new AppRollout('solo', {
      app: 'solo',
      namespace: 'ns',
      image: 'r/app',
      imageTag: 'v3',
      appVersion: 'v3',
      replicas: 2,
      containerPort: 8080,
      steps: defaultCanarySteps(),
      verifyImage: 'r/tandem:1',
      specFile: 's.yaml',
      specText: 'name: s',
      appDatabaseUrl: pulumi.secret('postgres://a:b@h/d'),
      verifyDatabaseUrl: pulumi.secret('postgres://m:n@h/d'),
    });
    const urn = await promiseOf(component.rollout.urn);
    const spec = await promiseOf<any>((component.rollout as unknown as Record<string, pulumi.Output<unknown>>).spec);
    await settled();
    expect(urn).toMatch(/::tandem:app:AppRollout\$kubernetes:argoproj.io\/v1alpha1:Rollout::solo-rollout$/);
    expect(spec.template.spec.containers[0].image).toBe('r/app:v3');
    expect(component.rolloutName).toBe('solo');
    expect(recorder.all.filter((r) => r.custom)).toHaveLength(7);
  });
});
