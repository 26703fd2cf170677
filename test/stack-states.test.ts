/**
 * The Pulumi program, run for real under setMocks for every stage: which resources each stack
 * state declares, and, computed by diffing adjacent states, that each step changes one side only.
 */
import { ancestorTypesOf } from '../phases/deploy/preview-check';
import { classifyResourceSide, COMPONENT_TYPES } from '../phases/deploy/resource-side';
import { STAGE_TABLE, STAGES, Stage } from '../phases/deploy/stages';
import { RecordedResource } from './mocks';
import { diffDeclared, sidesChanged } from './stack-diff';
import { runStack, writeSpec } from './stack-run';

const COMMAND = 'command:local:Command';
const ROLLOUT = 'kubernetes:argoproj.io/v1alpha1:Rollout';

const spec = writeSpec();
const declared = new Map<Stage, RecordedResource[]>();
const outputs = new Map<Stage, Record<string, any>>();

beforeAll(async () => {
  for (const stage of STAGES) {
    const run = await runStack(stage, spec);
    declared.set(stage, run.recorder.all);
    outputs.set(stage, run.outputs);
  }
});

function commandsOf(stage: Stage): string[] {
  return declared
    .get(stage)!
    .filter((r) => r.type === COMMAND)
    .map((r) => r.name)
    .sort();
}

function rolloutOf(stage: Stage): RecordedResource {
  const rollouts = declared.get(stage)!.filter((r) => r.type === ROLLOUT);
  expect(rollouts).toHaveLength(1);
  return rollouts[0];
}

describe('what each stack state declares', () => {
  it.each([
    ['baseline', [], 'v1'],
    ['expand', ['backfill', 'expand'], 'v1'],
    ['dual-write', ['backfill', 'expand'], 'v2'],
    ['cleanup', ['backfill', 'expand'], 'v3'],
    ['contract', ['backfill', 'contract', 'expand', 'verify'], 'v3'],
  ] as const)('%s: schema Commands %j, app %s', (stage, commands, version) => {
    expect(commandsOf(stage)).toEqual(commands.map((c) => `split-full-name-${c}`));
    const container = rolloutOf(stage).inputs.spec.template.spec.containers[0];
    expect(container.image).toBe(`ghcr.io/tandem-dev/tandem-demo:${version}`);
    expect(container.env).toContainEqual({ name: 'APP_VERSION', value: version });
    expect(outputs.get(stage)!.appVersion).toBe(version);
    expect(outputs.get(stage)!.stage).toBe(stage);
  });

  it.each(STAGES)(
    '%s: one TandemMigration at the top; every other resource has a Tandem component as parent',
    (stage) => {
      const all = declared.get(stage)!;
      const tokens = new Set<string>(Object.values(COMPONENT_TYPES));
      for (const r of all) {
        const parent = all.find((p) => p.urn === r.parentUrn);
        if (r.type === COMPONENT_TYPES.tandemMigration) {
          expect({ name: r.name, parent: parent?.type }).toEqual({ name: r.name, parent: undefined });
        } else {
          expect({ name: r.name, parentIsComponent: tokens.has(parent?.type ?? '') }).toEqual({
            name: r.name,
            parentIsComponent: true,
          });
        }
      }
      expect(all.filter((r) => r.type === COMPONENT_TYPES.tandemMigration)).toHaveLength(1);
    },
  );

  it.each(STAGES)(
    '%s: the walker can place every resource (by its URN, as in a preview): none is of unknown side',
    (stage) => {
      const sides = declared.get(stage)!.map((r) => [r.name, classifyResourceSide(r.type, ancestorTypesOf(r.urn))]);
      expect(sides.filter(([, side]) => side === 'unknown')).toEqual([]);
      // neutral: only the TandemMigration that holds the others.
      expect(new Set(sides.map(([, side]) => side))).toEqual(new Set(['schema', 'app', 'neutral']));
      expect(sides.filter(([, side]) => side === 'neutral').map(([name]) => name)).toEqual(['tandem']);
    },
  );

  it('orders the Commands: backfill after expand, verify after backfill, contract after verify', () => {
    const all = declared.get('contract')!;
    const byName = (n: string) => all.find((r) => r.name === `split-full-name-${n}`)!;
    const dependsOn = (n: string) => byName(n).dependencies.map((u) => all.find((r) => r.urn === u)?.name);
    expect(dependsOn('expand')).toEqual([]);
    expect(dependsOn('backfill')).toEqual(['split-full-name-expand']);
    expect(dependsOn('verify')).toEqual(['split-full-name-backfill']);
    expect(dependsOn('contract')).toEqual(['split-full-name-verify']);
  });

  it('declares the same set of components in every stage, so no step deletes a component', () => {
    const components = (s: Stage) =>
      declared
        .get(s)!
        .filter((r) => !r.custom)
        .map((r) => `${r.type}::${r.name}`)
        .sort();
    for (const stage of STAGES) expect(components(stage)).toEqual(components('baseline'));
  });
});

describe('hard rule 1: each step changes exactly one side', () => {
  const steps = STAGES.slice(1).map((to, i) => [STAGES[i], to] as const);

  it.each(steps)('%s -> %s changes only the side the stage table names', (from, to) => {
    const changes = diffDeclared(declared.get(from)!, declared.get(to)!);
    expect(changes.length).toBeGreaterThan(0);
    expect(sidesChanged(changes)).toEqual([STAGE_TABLE[to].changes]);
  });

  it.each(steps)('%s -> %s moving back changes the same single side', (from, to) => {
    const changes = diffDeclared(declared.get(to)!, declared.get(from)!);
    expect(sidesChanged(changes)).toEqual([STAGE_TABLE[to].changes]);
  });

  it('the diff sees both sides when two stages apart differ in both (so the check is not vacuous)', () => {
    const changes = diffDeclared(declared.get('expand')!, declared.get('cleanup')!);
    expect(sidesChanged(changes)).toEqual(['app']);
    const both = diffDeclared(declared.get('baseline')!, declared.get('dual-write')!);
    expect(sidesChanged(both)).toEqual(['app', 'schema']);
  });
});
