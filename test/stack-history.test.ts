/**
 * One stack through two migrations in a row (split-full-name on customers, then total-cents on
 * orders), run for real under setMocks at every stage of both. Adjacent stack states differ in one
 * side only, including the step from the first migration's contract to the second's baseline; no
 * forward step runs a rollback or any delete, except the first migration's Commands, which leave
 * the state retained (their deletes never run).
 */
import * as fs from 'fs';
import * as path from 'path';
import { checkPreview } from '../phases/deploy/preview-check';
import { allPositions, MigrationPosition } from '../phases/deploy/migration-stage';
import { STAGE_TABLE, Stage } from '../phases/deploy/stages';
import { RecordedResource } from './mocks';
import { deletesRun, diffDeclared, retainedDeletes, sidesChanged } from './stack-diff';
import { runStack, writeSpec } from './stack-run';

const COMMAND = 'command:local:Command';
const ROLLOUT = 'kubernetes:argoproj.io/v1alpha1:Rollout';
const CONFIGMAP = 'kubernetes:core/v1:ConfigMap';

const TOTAL_CENTS_SPEC = `name: total-cents
table: orders
operations:
  - change_type:
      column: total
      into: total_cents
      type: bigint
      up: "round(total * 100)::bigint"
      down: "(total_cents / 100.0)::numeric(12,2)"
`;

const first = writeSpec();
const second = path.join(path.dirname(first), 'total-cents.yaml');
fs.writeFileSync(second, TOTAL_CENTS_SPEC);

const DIGEST = 'sha256:' + 'a1b2c3d4'.repeat(8);
const RELEASES = {
  r14: 'ghcr.io/acme/shop:1.14.2',
  r15: { image: 'ghcr.io/acme/shop:1.15.0', env: { APP_VERSION: 'v2' } },
  r16: `ghcr.io/acme/shop@${DIGEST}`,
  r17: 'registry.acme.internal:5000/shop/web:1.17.0-rc.1',
  r18: 'ghcr.io/acme/shop:1.18.0',
};
/** The second migration leaves `old` out: it is the first one's `new`. */
const MIGRATIONS = [
  { spec: first, releases: { old: RELEASES.r14, dual: RELEASES.r15, new: RELEASES.r16 } },
  { spec: second, releases: { dual: RELEASES.r17, new: RELEASES.r18 } },
];
const NAMES = ['split-full-name', 'total-cents'];

const positions = allPositions(2);
const label = (p: MigrationPosition) => `${NAMES[p.migration]}@${p.stage}`;
const declared = new Map<string, RecordedResource[]>();
const outputs = new Map<string, Record<string, any>>();

beforeAll(async () => {
  for (const p of positions) {
    const run = await runStack(p.stage, first, { migrations: MIGRATIONS, migration: NAMES[p.migration] });
    declared.set(label(p), run.recorder.all);
    outputs.set(label(p), run.outputs);
  }
});

const at = (m: number, stage: Stage) => declared.get(label({ migration: m, stage }))!;
const rolloutOf = (rs: RecordedResource[]) =>
  rs.filter((r) => r.type === ROLLOUT)[0].inputs.spec.template.spec.containers[0];
const deleteRunsRollback = (r: RecordedResource | undefined) =>
  typeof r?.inputs.delete === 'string' && /(^|\s)rollback(\s|$)/.test(r.inputs.delete);
const forward = positions.slice(1).map((to, i) => [label(positions[i]), label(to), positions[i], to] as const);

describe('two migrations in a row on one stack', () => {
  it.each([
    [0, 'baseline', RELEASES.r14, []],
    [0, 'expand', RELEASES.r14, ['backfill', 'expand']],
    [0, 'dual-write', RELEASES.r15.image, ['backfill', 'expand']],
    [0, 'cleanup', `ghcr.io/acme/shop@${DIGEST}`, ['backfill', 'expand']],
    [0, 'contract', `ghcr.io/acme/shop@${DIGEST}`, ['backfill', 'contract', 'expand', 'verify']],
    [1, 'baseline', `ghcr.io/acme/shop@${DIGEST}`, []],
    [1, 'expand', `ghcr.io/acme/shop@${DIGEST}`, ['backfill', 'expand']],
    [1, 'dual-write', RELEASES.r17, ['backfill', 'expand']],
    [1, 'cleanup', RELEASES.r18, ['backfill', 'expand']],
    [1, 'contract', RELEASES.r18, ['backfill', 'contract', 'expand', 'verify']],
  ] as const)('migration %i at %s runs %s and declares only its own Commands %j', (m, stage, image, commands) => {
    const rs = at(m, stage);
    expect(rolloutOf(rs).image).toBe(image);
    expect(
      rs
        .filter((r) => r.type === COMMAND)
        .map((r) => r.name)
        .sort(),
    ).toEqual(commands.map((c) => `${NAMES[m]}-${c}`));
    expect(outputs.get(label({ migration: m, stage }))!.migration).toBe(NAMES[m]);
  });

  it("a release carries its own environment; a plain reference sets none (APP_VERSION is only the demo's switch)", () => {
    expect(rolloutOf(at(0, 'dual-write')).env).toContainEqual({ name: 'APP_VERSION', value: 'v2' });
    expect(rolloutOf(at(0, 'cleanup')).env.map((e: any) => e.name)).toEqual(['PORT', 'DATABASE_URL']);
  });

  it('records the history in the outputs: finished, current, planned', () => {
    const statuses = (m: number, s: Stage) =>
      outputs.get(label({ migration: m, stage: s }))!.migrations.map((x: any) => `${x.name}:${x.status}`);
    expect(statuses(0, 'contract')).toEqual(['split-full-name:current', 'total-cents:planned']);
    expect(statuses(1, 'baseline')).toEqual(['split-full-name:finished', 'total-cents:current']);
    expect(outputs.get(label({ migration: 1, stage: 'baseline' }))!.migrations[1].releases.old).toBe(
      `ghcr.io/acme/shop@${DIGEST}`,
    );
  });

  it("the verify Job keeps the first spec until the second migration's first app step", () => {
    const specKeys = (m: number, s: Stage) => Object.keys(at(m, s).filter((r) => r.type === CONFIGMAP)[0].inputs.data);
    expect(specKeys(1, 'baseline')).toEqual(['split-full-name.yaml']);
    expect(specKeys(1, 'expand')).toEqual(['split-full-name.yaml']);
    expect(specKeys(1, 'dual-write')).toEqual(['total-cents.yaml']);
  });
});

describe('hard rule 1 across migrations: every adjacent pair of stack states differs in one side', () => {
  it.each(forward)('%s -> %s', (_a, _b, from, to) => {
    const changes = diffDeclared(declared.get(label(from))!, declared.get(label(to))!);
    expect(changes.length).toBeGreaterThan(0);
    const side = to.stage === 'baseline' ? 'schema' : STAGE_TABLE[to.stage].changes;
    expect(sidesChanged(changes)).toEqual([side]);
  });

  it("the diff is not vacuous: two migrations' dual-write stages differ in both sides", () => {
    expect(sidesChanged(diffDeclared(at(0, 'dual-write'), at(1, 'dual-write')))).toEqual(['app', 'schema']);
  });
});

describe('no forward step runs a rollback or any delete, except retained ones', () => {
  it.each(forward)('%s -> %s runs no delete', (_a, _b, from, to) => {
    const changes = diffDeclared(declared.get(label(from))!, declared.get(label(to))!);
    expect(deletesRun(changes).map((c) => `${c.kind} ${c.name}`)).toEqual([]);
    expect(
      changes.filter(
        (c) => (c.kind === 'delete' || c.kind === 'replace') && deleteRunsRollback(c.before) && !c.retained,
      ),
    ).toEqual([]);
  });

  it("the first migration's Commands leave the stack at the second one's baseline, retained, and only there", () => {
    for (const [a, b, from, to] of forward) {
      const retained = retainedDeletes(diffDeclared(declared.get(label(from))!, declared.get(label(to))!))
        .map((c) => c.name)
        .sort();
      const expected =
        a === 'split-full-name@contract' && b === 'total-cents@baseline'
          ? ['backfill', 'contract', 'expand', 'verify'].map((c) => `split-full-name-${c}`)
          : [];
      expect({ step: `${a} -> ${b}`, retained }).toEqual({ step: `${a} -> ${b}`, retained: expected });
    }
  });

  it("would catch the trap: without retainOnDelete the same step runs expand's rollback", () => {
    const unretained = at(0, 'contract').map((r) => ({ ...r, retainOnDelete: false }));
    const run = deletesRun(diffDeclared(unretained, at(1, 'baseline')));
    expect(run.filter((c) => deleteRunsRollback(c.before)).map((c) => c.name)).toEqual(['split-full-name-expand']);
  });

  it('moving back inside the second migration still undoes only its own expand', () => {
    const run = deletesRun(diffDeclared(at(1, 'expand'), at(1, 'baseline')));
    expect(run.filter((c) => deleteRunsRollback(c.before)).map((c) => c.name)).toEqual(['total-cents-expand']);
  });
});

describe("the walker's preview check on the step to the next migration", () => {
  const events = () =>
    diffDeclared(at(0, 'contract'), at(1, 'baseline')).map((c) => ({ urn: c.urn, type: c.type, op: c.kind }));
  const step = (side: 'schema' | 'app') => ({
    from: 'contract' as Stage,
    to: 'baseline' as Stage,
    direction: 'forward' as const,
    side,
    gates: [],
    why: '',
  });

  it('counts the retained deletes as schema changes and lets a schema step through', () => {
    const byside = checkPreview(step('schema'), events());
    expect(byside.app).toEqual([]);
    expect(byside.schema.filter((c) => c.op === 'delete' && c.type === COMMAND)).toHaveLength(4);
  });

  it('refuses it as an app step (so the retained deletes are seen, not skipped)', () => {
    expect(() => checkPreview(step('app'), events())).toThrow(
      /may change only the app, but the preview changes the schema/,
    );
  });
});

describe("Pulumi.dev.yaml's history (the demo split, then merged back) obeys the same rules", () => {
  const dev = require('yaml').parse(fs.readFileSync(path.join(__dirname, '..', 'Pulumi.dev.yaml'), 'utf8')).config;
  const devMigrations = (dev['tandem:migrations'] as any[]).map((m) => ({
    ...m,
    spec: path.join(__dirname, '..', m.spec),
  }));
  const devNames = ['split-full-name', 'merge-name'];
  const states: RecordedResource[][] = [];

  beforeAll(async () => {
    for (const p of positions)
      states.push(
        (await runStack(p.stage, first, { migrations: devMigrations, migration: devNames[p.migration] })).recorder.all,
      );
  });

  it('every step changes one side and runs no delete; merge-name ends on the v1 release', () => {
    for (let i = 1; i < positions.length; i++) {
      const changes = diffDeclared(states[i - 1], states[i]);
      const to = positions[i];
      const side = to.stage === 'baseline' ? 'schema' : STAGE_TABLE[to.stage].changes;
      expect({ step: i, sides: sidesChanged(changes), run: deletesRun(changes).map((c) => c.name) }).toEqual({
        step: i,
        sides: [side],
        run: [],
      });
    }
    const last = rolloutOf(states[states.length - 1]);
    expect(last.image).toBe('ghcr.io/tandem-dev/tandem-demo:v1');
    expect(last.env).toContainEqual({ name: 'APP_VERSION', value: 'v1' });
  });
});
