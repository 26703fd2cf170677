import {
  ancestorTypesOf,
  checkPreview,
  classifyChanges,
  parentTypeOf,
  PreviewRefusedError,
  ResourceChange,
} from '../phases/deploy/preview-check';
import { walkPath, WalkMove } from '../phases/deploy/walk-path';

const urn = (chain: string, name: string) => `urn:pulumi:dev::tandem::${chain}::${name}`;
const change = (op: string, chain: string, name: string): ResourceChange => ({
  op,
  urn: urn(chain, name),
  type: chain.split('$').pop()!,
});

const expandCommand = change('create', 'tandem:schema:SchemaChange$command:local:Command', 'users-expand');
const grant = change('update', 'tandem:database:DatabaseAccess$postgresql:index/grant:Grant', 'access-app-dml');
const rollout = change('update', 'tandem:app:AppRollout$kubernetes:argoproj.io/v1alpha1:Rollout', 'app-rollout');
const service = change('same', 'tandem:app:AppRollout$kubernetes:core/v1:Service', 'app-stable');
const stackRes = change('same', 'pulumi:pulumi:Stack', 'tandem-dev');
const provider = change('update', 'pulumi:providers:kubernetes', 'k8s');
const stackOutputs = change('update', 'pulumi:pulumi:Stack', 'tandem-dev');
const secret = change(
  'create',
  'tandem:database:DatabaseAccess$random:index/randomPassword:RandomPassword',
  'access-password',
);
/** Of a package no side is known for, declared outside Tandem's components. */
const stray = change('update', 'random:index/randomPassword:RandomPassword', 'stray-password');
const strayInWrapper = change(
  'create',
  'acme:index:Wrapper$random:index/randomPassword:RandomPassword',
  'wrapped-password',
);
/** Under AppRollout through another component: the AppRollout decides. */
const wrappedInApp = change(
  'update',
  'tandem:app:AppRollout$acme:index:Wrapper$random:index/randomPassword:RandomPassword',
  'app-token',
);

const stepTo = (from: Parameters<typeof walkPath>[0], to: Parameters<typeof walkPath>[1]): WalkMove =>
  walkPath(from, to)[0];

describe('parentTypeOf', () => {
  it.each([
    [urn('tandem:app:AppRollout$kubernetes:core/v1:Service', 'svc'), 'tandem:app:AppRollout'],
    [urn('pulumi:pulumi:Stack$tandem:schema:SchemaChange$command:local:Command', 'c'), 'tandem:schema:SchemaChange'],
    [urn('pulumi:pulumi:Stack', 'tandem-dev'), undefined],
    ['not-a-urn', undefined],
  ])('%s -> %s', (u, parent) => expect(parentTypeOf(u)).toBe(parent));

  it.each([
    [
      urn('tandem:app:AppRollout$acme:index:Wrapper$kubernetes:core/v1:Secret', 's'),
      ['acme:index:Wrapper', 'tandem:app:AppRollout'],
    ],
    [urn('kubernetes:core/v1:Secret', 's'), []],
    ['not-a-urn', []],
  ])('ancestors of %s, nearest first: %j', (u, ancestors) => expect(ancestorTypesOf(u)).toEqual(ancestors));
});

describe('classifyChanges', () => {
  it('groups changed resources by side and leaves out same and read', () => {
    const read = change('read', 'kubernetes:core/v1:ConfigMap', 'cm');
    const c = classifyChanges([
      expandCommand,
      grant,
      rollout,
      service,
      stackRes,
      provider,
      read,
      stackOutputs,
      stray,
      wrappedInApp,
    ]);
    expect(c.schema).toEqual([expandCommand, grant]);
    expect(c.app).toEqual([rollout, provider, wrappedInApp]);
    expect(c.neutral).toEqual([stackOutputs]);
    expect(c.unknown).toEqual([stray]);
  });
});

describe('checkPreview: hard rule 1 on each step', () => {
  it('passes a schema step that changes only the schema (and neutral resources)', () => {
    expect(
      checkPreview(stepTo('baseline', 'expand'), [expandCommand, grant, service, stackOutputs, stackRes]).schema,
    ).toHaveLength(2);
  });

  it('passes an app step that changes only the app', () => {
    expect(checkPreview(stepTo('expand', 'dual-write'), [rollout, service, stackRes]).app).toEqual([rollout]);
  });

  it.each<[string, WalkMove, ResourceChange[], string, ResourceChange[]]>([
    [
      'both sides on a schema step',
      stepTo('baseline', 'expand'),
      [expandCommand, rollout],
      'both-sides',
      [expandCommand, rollout],
    ],
    ['both sides on an app step', stepTo('dual-write', 'cleanup'), [rollout, secret], 'both-sides', [secret, rollout]],
    ['only the app on a schema step', stepTo('cleanup', 'contract'), [rollout, service], 'wrong-side', [rollout]],
    ['only the schema on an app step', stepTo('expand', 'dual-write'), [grant], 'wrong-side', [grant]],
    [
      'only the schema on an app step back',
      stepTo('cleanup', 'dual-write'),
      [expandCommand],
      'wrong-side',
      [expandCommand],
    ],
    [
      'an update on the first deployment',
      stepTo(null, 'baseline'),
      [expandCommand, grant],
      'first-deployment-changes',
      [grant],
    ],
    [
      'an unknown resource on a schema step',
      stepTo('baseline', 'expand'),
      [expandCommand, stray],
      'unknown-side',
      [stray],
    ],
    [
      'an unknown resource alone on an app step',
      stepTo('expand', 'dual-write'),
      [stray, service],
      'unknown-side',
      [stray],
    ],
    [
      'unknown resources on the first deployment',
      stepTo(null, 'baseline'),
      [{ ...rollout, op: 'create' }, strayInWrapper],
      'unknown-side',
      [strayInWrapper],
    ],
  ])('refuses %s, naming the offending resources', (_name, step, changes, refusal, offending) => {
    let caught: unknown;
    try {
      checkPreview(step, changes);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PreviewRefusedError);
    const e = caught as PreviewRefusedError;
    expect(e.exitCode).toBe(1);
    expect(e.refusal).toBe(refusal);
    expect(e.offending).toEqual(offending);
    for (const o of offending) expect(e.message).toContain(o.urn);
  });

  it('lets the first deployment create both sides', () => {
    const c = checkPreview(stepTo(null, 'baseline'), [secret, { ...rollout, op: 'create' }, stackRes]);
    expect([c.schema.length, c.app.length]).toEqual([1, 1]);
  });

  it('names the unknown resource and says where to declare it', () => {
    expect(() => checkPreview(stepTo('dual-write', 'cleanup'), [rollout, stray])).toThrow(
      /neither schema nor app \(update urn:pulumi:dev::tandem::random:index\/randomPassword:RandomPassword::stray-password\); declare them under a Tandem component/,
    );
  });

  it('an unknown resource that does not change passes', () => {
    expect(checkPreview(stepTo('dual-write', 'cleanup'), [rollout, { ...stray, op: 'same' }]).app).toEqual([rollout]);
  });

  it('a kubernetes provider change counts as app (phases/deploy/resource-side.ts)', () => {
    expect(() => checkPreview(stepTo('baseline', 'expand'), [expandCommand, provider])).toThrow(PreviewRefusedError);
  });

  it('uses the classifier it is given', () => {
    expect(() => checkPreview(stepTo('baseline', 'expand'), [rollout], () => 'schema')).not.toThrow();
  });
});
