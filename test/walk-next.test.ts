/**
 * `tandem walk --to next` through the walker's seam: from a finished migration's contract to the
 * next one's baseline, one schema-only up, refused unless the database records it contracted;
 * every rule of a walk step stays (preview check, plan, pending operations).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Gates } from '../automation/gates';
import { plan } from '../automation/plan';
import { walk } from '../automation/walk';
import { MigrationProgress } from '../executor/types';
import { RefusedError } from '../phases/errors';
import { PreviewRefusedError, ResourceChange } from '../phases/deploy/preview-check';
import { Stage } from '../phases/deploy/stages';
import { APP_CHANGE, FakeStackDriver, FakeStackOptions } from './fake-stack-driver';
import { SPLIT_FULL_NAME_SPEC } from './stack-run';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-next-'));
fs.writeFileSync(path.join(dir, 'a.yaml'), SPLIT_FULL_NAME_SPEC);
fs.writeFileSync(path.join(dir, 'b.yaml'), SPLIT_FULL_NAME_SPEC.replace('name: split-full-name', 'name: second-one'));
const MIGRATIONS = JSON.stringify([
  {
    spec: 'a.yaml',
    releases: { old: 'ghcr.io/acme/shop:1.14.2', dual: 'ghcr.io/acme/shop:1.15.0', new: 'ghcr.io/acme/shop:1.16.0' },
  },
  { spec: 'b.yaml', releases: { dual: 'ghcr.io/acme/shop:1.17.0', new: 'ghcr.io/acme/shop:1.18.0' } },
]);

/** The retained deletes of the finished migration and the next one's SchemaChange: schema only. */
const NEXT_PREVIEW: ResourceChange[] = [
  {
    op: 'delete',
    type: 'command:local:Command',
    urn: 'urn:pulumi:dev::tandem::tandem:index:TandemMigration$tandem:schema:SchemaChange$command:local:Command::split-full-name-expand',
  },
  {
    op: 'delete',
    type: 'tandem:schema:SchemaChange',
    urn: 'urn:pulumi:dev::tandem::tandem:index:TandemMigration$tandem:schema:SchemaChange::split-full-name',
  },
  {
    op: 'create',
    type: 'tandem:schema:SchemaChange',
    urn: 'urn:pulumi:dev::tandem::tandem:index:TandemMigration$tandem:schema:SchemaChange::second-one',
  },
];

class HistoryDriver extends FakeStackDriver {
  migration: string;
  constructor(options: FakeStackOptions & { migration: string }) {
    super({ ...options, config: { 'tandem:migrations': MIGRATIONS, ...options.config } });
    this.migration = options.migration;
  }
  async config(key: string) {
    return key === 'tandem:migration' ? this.migration : super.config(key);
  }
  async setMigration(name: string) {
    this.calls.push(`setMigration ${name}`);
    this.migration = name;
  }
}

const gates = (step: MigrationProgress): Gates & { calls: string[] } => {
  const calls: string[] = [];
  const ok = async () => ({ ok: true, detail: 'ok' });
  return {
    calls,
    verify: ok,
    rolloutHealthy: ok,
    rolloutSettled: ok,
    schemaStep: async () => (calls.push('schema-step'), { step, detail: `split-full-name is ${step}` }),
  };
};

const driver = (stage: Stage, previews: FakeStackOptions['previews'] = { baseline: NEXT_PREVIEW }) =>
  new HistoryDriver({ stage, migration: 'split-full-name', previews });

describe('walk --to next', () => {
  it('moves from the contract of one migration to the baseline of the next, in one schema-only up', async () => {
    const d = driver('contract');
    const g = gates('contracted');
    const result = await walk(d, g, { to: 'next', yes: true, projectDir: dir });
    expect(result).toMatchObject({ from: 'contract', to: 'baseline', migration: 'second-one' });
    expect(d.calls.filter((c) => !c.startsWith('pending') && c !== 'currentStage')).toEqual([
      'setMigration second-one',
      'setStage baseline',
      'preview baseline',
      expect.stringMatching(/^up baseline plan-/),
    ]);
    expect(g.calls).toEqual(['schema-step']);
  });

  it('refuses before anything is set when the database does not record the migration contracted', async () => {
    const d = driver('contract');
    await expect(walk(d, gates('backfilled'), { to: 'next', yes: true, projectDir: dir })).rejects.toThrow(
      /records split-full-name as backfilled, not contracted/,
    );
    expect(d.calls.filter((c) => c.startsWith('set') || c.startsWith('up'))).toEqual([]);
  });

  it('refuses from any stage but contract, and after the last migration', async () => {
    await expect(
      walk(driver('cleanup'), gates('contracted'), { to: 'next', yes: true, projectDir: dir }),
    ).rejects.toThrow(/is at cleanup, not contract; finish it first/);
    const last = new HistoryDriver({ stage: 'contract', migration: 'second-one' });
    const err = await walk(last, gates('contracted'), { to: 'next', yes: true, projectDir: dir }).catch((e) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect(err.message).toMatch(/no migration after second-one/);
  });

  it('keeps the side check: a preview that also changes the app is refused, and the stack goes back to the finished migration', async () => {
    const d = driver('contract', { baseline: [...NEXT_PREVIEW, APP_CHANGE] });
    await expect(walk(d, gates('contracted'), { to: 'next', yes: true, projectDir: dir })).rejects.toBeInstanceOf(
      PreviewRefusedError,
    );
    expect(d.migration).toBe('split-full-name');
    expect(d.configured).toBe('contract');
    expect(d.ups).toEqual([]);
  });

  it('tandem plan names the current migration and the next, and previews the step without applying it', async () => {
    const d = driver('contract');
    const result = await plan(d, { to: 'next', preview: true, projectDir: dir });
    expect(result.migration).toEqual({ current: 'split-full-name', number: 1, count: 2, next: 'second-one' });
    expect(result.steps).toMatchObject([{ from: 'contract', to: 'baseline', side: 'schema' }]);
    expect(result.steps[0].preview!.schema).toHaveLength(3);
    expect({ migration: d.migration, stage: d.configured, ups: d.ups }).toEqual({
      migration: 'split-full-name',
      stage: 'contract',
      ups: [],
    });
  });
});
