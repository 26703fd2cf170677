import { pendingOperationsOf, resourceChangeOf, resourceEventOf } from '../automation/engine-events';

/** Engine events as the CLI writes them to the Automation API's event log (apitype.EngineEvent). */
const ROLLOUT_URN =
  'urn:pulumi:dev::tandem::tandem:app:AppRollout$kubernetes:argoproj.io/v1alpha1:Rollout::tandem-demo';
const metadata = {
  op: 'update',
  urn: ROLLOUT_URN,
  type: 'kubernetes:argoproj.io/v1alpha1:Rollout',
  old: {
    type: 'kubernetes:argoproj.io/v1alpha1:Rollout',
    urn: ROLLOUT_URN,
    id: 'default/tandem-demo',
    parent: 'urn:pulumi:dev::tandem::tandem:app:AppRollout::tandem-demo',
    provider: 'urn:pulumi:dev::tandem::pulumi:providers:kubernetes::render::3f1c',
    inputs: {},
    outputs: {},
  },
  new: {
    type: 'kubernetes:argoproj.io/v1alpha1:Rollout',
    urn: ROLLOUT_URN,
    id: '',
    parent: 'urn:pulumi:dev::tandem::tandem:app:AppRollout::tandem-demo',
    provider: 'urn:pulumi:dev::tandem::pulumi:providers:kubernetes::render::3f1c',
    inputs: {},
    outputs: {},
  },
  diffs: ['spec'],
  detailedDiff: { 'spec.template.spec.containers[0].image': { kind: 'update', inputDiff: true } },
  logical: true,
  provider: 'urn:pulumi:dev::tandem::pulumi:providers:kubernetes::render::3f1c',
};
const at = { sequence: 7, timestamp: 1764079200 };

describe('engine events', () => {
  it('a preview step (resourcePreEvent, planning) becomes a resource change', () => {
    expect(resourceChangeOf({ ...at, resourcePreEvent: { metadata, planning: true } } as any)).toEqual({
      urn: ROLLOUT_URN,
      type: metadata.type,
      op: 'update',
    });
  });

  it.each([
    ['resourcePreEvent', 'pre'],
    ['resOutputsEvent', 'done'],
    ['resOpFailedEvent', 'failed'],
  ])('an update %s is a %s resource event', (key, phase) => {
    const event = { ...at, [key]: key === 'resOpFailedEvent' ? { metadata, status: 1, steps: 1 } : { metadata } };
    expect(resourceEventOf(event as any)).toEqual({ phase, op: 'update', urn: ROLLOUT_URN, type: metadata.type });
  });

  it.each([
    ['diagnostic', { diagnosticEvent: { message: 'warning', color: 'never', severity: 'warning' } }],
    [
      'summary',
      { summaryEvent: { maybeCorrupt: false, durationSeconds: 3, resourceChanges: { same: 9 }, PolicyPacks: {} } },
    ],
    ['prelude', { preludeEvent: { config: {} } }],
    ['cancel', { cancelEvent: {} }],
  ])('a %s event is no resource step', (_name, body) => {
    expect(resourceChangeOf({ ...at, ...body } as any)).toBeUndefined();
    expect(resourceEventOf({ ...at, ...body } as any)).toBeUndefined();
  });
});

describe('pendingOperationsOf an exported deployment (version 3)', () => {
  it('lists each pending operation with its resource and what it was doing', () => {
    const exported = {
      version: 3,
      deployment: {
        manifest: { time: '2026-11-25T14:00:00Z', magic: 'x', version: 'v3.200.0' },
        secrets_providers: { type: 'passphrase', state: { salt: 'v1:abc' } },
        resources: [],
        pending_operations: [
          {
            resource: { urn: ROLLOUT_URN, custom: true, type: metadata.type, inputs: {}, parent: metadata.new.parent },
            type: 'updating',
          },
          {
            resource: {
              urn: 'urn:pulumi:dev::tandem::tandem:schema:SchemaChange$command:local:Command::split-full-name-backfill',
              custom: true,
              type: 'command:local:Command',
            },
            type: 'creating',
          },
        ],
      },
    };
    expect(pendingOperationsOf(exported)).toEqual([
      { urn: ROLLOUT_URN, type: metadata.type, op: 'updating' },
      {
        urn: 'urn:pulumi:dev::tandem::tandem:schema:SchemaChange$command:local:Command::split-full-name-backfill',
        type: 'command:local:Command',
        op: 'creating',
      },
    ]);
  });

  it('a deployment without pending operations (the field is omitted when empty) has none', () => {
    expect(pendingOperationsOf({ deployment: { manifest: {}, resources: [] } })).toEqual([]);
    expect(pendingOperationsOf({})).toEqual([]);
  });
});
