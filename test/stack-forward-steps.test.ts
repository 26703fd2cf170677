import * as path from 'path';
/**
 * The Command lifecycle trap (docs/architecture.md): Pulumi deletes what a later stack state stops declaring,
 * and replaces what changes a replaceOnChanges input (create new, then delete old). The expand
 * Command's delete is `tandem rollback`. For every forward step, computed from the declared
 * resources, no resource whose delete runs a rollback is deleted or replaced.
 */
import * as fs from 'fs';
import { STAGES, Stage } from '../phases/deploy/stages';
import { RecordedResource } from './mocks';
import { deletesRun, diffDeclared, retainedDeletes } from './stack-diff';
import { runStack, SPLIT_FULL_NAME_SPEC, writeSpec } from './stack-run';

const spec = writeSpec();
const declared = new Map<Stage, RecordedResource[]>();

beforeAll(async () => {
  for (const stage of STAGES) declared.set(stage, (await runStack(stage, spec)).recorder.all);
});

/** Whether running this resource's delete undoes expand. */
function deleteRunsRollback(r: RecordedResource | undefined): boolean {
  const del = r?.inputs.delete;
  return typeof del === 'string' && /(^|\s)rollback(\s|$)/.test(del);
}

const forward = STAGES.slice(1).map((to, i) => [STAGES[i], to] as const);

describe('no forward step ever runs a rollback', () => {
  it('the expand Command does carry a rollback delete, from expand on (so the check below has something to catch)', () => {
    for (const stage of STAGES.slice(1)) {
      const rollbacks = declared
        .get(stage)!
        .filter(deleteRunsRollback)
        .map((r) => r.name);
      expect(rollbacks).toEqual(['split-full-name-expand']);
    }
    expect(declared.get('baseline')!.filter(deleteRunsRollback)).toEqual([]);
  });

  it.each(forward)('%s -> %s deletes or replaces nothing that runs a rollback', (from, to) => {
    const deleted = deletesRun(diffDeclared(declared.get(from)!, declared.get(to)!));
    expect(deleted.filter((c) => deleteRunsRollback(c.before)).map((c) => c.name)).toEqual([]);
  });

  it.each(forward)('%s -> %s deletes or replaces no schema resource at all', (from, to) => {
    const deleted = deletesRun(diffDeclared(declared.get(from)!, declared.get(to)!));
    expect(deleted.filter((c) => c.side === 'schema').map((c) => `${c.kind} ${c.name}`)).toEqual([]);
  });

  it('moving back from expand to baseline is what runs the rollback (removing a stage undoes it)', () => {
    const deleted = deletesRun(diffDeclared(declared.get('expand')!, declared.get('baseline')!));
    expect(deleted.filter((c) => deleteRunsRollback(c.before)).map((c) => c.name)).toEqual(['split-full-name-expand']);
  });

  it('moving back from contract runs no delete at all: contract declared every Command retained (the walker refuses the move anyway)', () => {
    const changes = diffDeclared(declared.get('contract')!, declared.get('cleanup')!);
    expect(deletesRun(changes)).toEqual([]);
    expect(
      retainedDeletes(changes)
        .map((c) => c.name)
        .sort(),
    ).toEqual(['split-full-name-contract', 'split-full-name-verify']);
  });

  it('contract declares every Command of the migration with retainOnDelete, and no stage before it does', () => {
    const retained = (s: Stage) =>
      declared
        .get(s)!
        .filter((r) => r.type === 'command:local:Command' && r.retainOnDelete)
        .map((r) => r.name)
        .sort();
    expect(retained('contract')).toEqual(
      ['backfill', 'contract', 'expand', 'verify'].map((c) => `split-full-name-${c}`),
    );
    for (const stage of STAGES.slice(0, -1)) expect(retained(stage)).toEqual([]);
  });

  it('the check catches a contract stage that stops declaring expand (the trap itself)', () => {
    const trapped = declared.get('contract')!.filter((r) => r.name !== 'split-full-name-expand');
    const deleted = deletesRun(diffDeclared(declared.get('cleanup')!, trapped));
    expect(deleted.filter((c) => deleteRunsRollback(c.before)).map((c) => c.name)).toEqual(['split-full-name-expand']);
  });

  it('the check catches a replacement: an expand Command whose triggers change', () => {
    const withTriggers = (rs: RecordedResource[], t: string) =>
      rs.map((r) => (r.name === 'split-full-name-expand' ? { ...r, inputs: { ...r.inputs, triggers: [t] } } : r));
    const changes = diffDeclared(
      withTriggers(declared.get('cleanup')!, 'a'),
      withTriggers(declared.get('contract')!, 'b'),
    );
    expect(
      deletesRun(changes)
        .filter((c) => deleteRunsRollback(c.before))
        .map((c) => `${c.kind} ${c.name}`),
    ).toEqual(['replace split-full-name-expand']);
  });

  it('no Command declares triggers, so no input change can replace one', () => {
    const commands = declared.get('contract')!.filter((r) => r.type === 'command:local:Command');
    expect(commands).toHaveLength(4);
    expect(commands.filter((r) => 'triggers' in r.inputs).map((r) => r.name)).toEqual([]);
  });
});

describe('a checkout at another path', () => {
  const root = path.join(__dirname, '..');

  it('leaves no trace of the checkout in any Command: no dir, no absolute path, nothing ignored', () => {
    const commands = declared.get('contract')!.filter((r) => r.type === 'command:local:Command');
    expect(commands).toHaveLength(4);
    for (const c of commands) {
      expect(c.inputs).not.toHaveProperty('dir');
      expect(c.ignoreChanges).toEqual([]);
      expect(JSON.stringify(c.inputs)).not.toContain(root);
      expect(c.inputs.create).toMatch(/^node bin\/tandem\.js /);
    }
  });

  it('a dir among the inputs would be a schema change after a move (what the above rules out)', () => {
    const withDir = (rs: RecordedResource[], dir: string) =>
      rs.map((r) => (r.type === 'command:local:Command' ? { ...r, inputs: { ...r.inputs, dir } } : r));
    const schema = diffDeclared(
      withDir(declared.get('expand')!, root),
      withDir(declared.get('dual-write')!, '/elsewhere/tandem'),
    ).filter((c) => c.side === 'schema');
    expect(schema.map((c) => [c.name, c.kind, c.changedInputs])).toEqual([
      ['split-full-name-expand', 'update', ['dir']],
      ['split-full-name-backfill', 'update', ['dir']],
    ]);
  });
});

describe("rotating the migrator's credentials", () => {
  const ROTATED = 'postgres://tandem_migrator:rotated-secret@db-2.example.internal:6432/shop?sslmode=verify-full';

  it.each(['expand', 'contract'] as const)(
    '%s: changes no Command input (the CLI reads the URL when it runs)',
    async (stage) => {
      const spec = writeSpec();
      const before = (await runStack(stage, spec)).recorder.all;
      const after = (await runStack(stage, spec, { databaseUrl: ROTATED })).recorder.all;
      const commands = diffDeclared(before, after).filter((c) => c.type === 'command:local:Command');
      expect(commands).toEqual([]);
      for (const c of after.filter((r) => r.type === 'command:local:Command')) {
        expect(JSON.stringify(c.inputs)).not.toMatch(/secret|postgres:/);
      }
    },
  );

  it('changes only the postgresql provider, which a preview shows as a provider update (no resource of either side)', async () => {
    const spec = writeSpec();
    const before = (await runStack('dual-write', spec)).recorder.all;
    const after = (await runStack('dual-write', spec, { databaseUrl: ROTATED })).recorder.all;
    expect(diffDeclared(before, after).map((c) => [c.type, c.kind])).toEqual([
      ['pulumi:providers:postgresql', 'update'],
    ]);
  });
});

describe('a changed spec updates the Commands in place, never replaces them', () => {
  it('editing the spec file changes the expand Command by update (create runs again), not replace', async () => {
    const file = writeSpec();
    const before = (await runStack('cleanup', file)).recorder.all;
    fs.writeFileSync(
      file,
      SPLIT_FULL_NAME_SPEC.replace("concat_ws(' ', first_name, last_name)", "concat_ws('  ', first_name, last_name)"),
    );
    const after = (await runStack('cleanup', file)).recorder.all;
    const changes = diffDeclared(before, after).filter((c) => c.type === 'command:local:Command');
    expect(changes.map((c) => [c.name, c.kind, c.changedInputs])).toEqual([
      ['split-full-name-expand', 'update', ['environment']],
      ['split-full-name-backfill', 'update', ['environment']],
    ]);
  });
});
