/**
 * The end-to-end suite's stand-in for pulumi-command v1.2.1's command:local:Command: its Check,
 * Diff, environment and error semantics (the pure part), and one real run of each operation
 * through the provider object (a real /bin/sh, no engine).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { specialSecretSig, specialSigKey, unknownValue } from '@pulumi/pulumi/runtime/rpc';
import { checkInputs, commandEnv, diffInputs, newId, runFailure, urnName } from '../e2e/command-provider/semantics';
import { commandProvider } from '../e2e/command-provider/provider';

const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });
const URN = 'urn:pulumi:dev::tandem::tandem:index:SchemaChange$command:local:Command::tandem-schema-expand';

describe('command stand-in: Check', () => {
  it('accepts the inputs Tandem sets, with secrets and unknowns', () => {
    expect(
      checkInputs({
        create: 'x',
        delete: secret('y'),
        environment: { A: secret('1') },
        logging: 'stderr',
        addPreviousOutputInEnv: false,
        triggers: [unknownValue],
      }),
    ).toEqual([]);
  });

  it('refuses what it does not implement, what v1.2.1 does not have, and a wrong type', () => {
    expect(
      checkInputs({
        create: 'x',
        assetPaths: ['*'],
        archivePaths: ['*'],
        connection: {},
        logging: 'loud',
        interpreter: 'sh',
      }).map((f) => f.property),
    ).toEqual(['assetPaths', 'archivePaths', 'connection', 'logging', 'interpreter']);
    expect(checkInputs({ assetPaths: ['*'] })[0].reason).toContain('does not implement');
  });
});

describe('command stand-in: Diff', () => {
  const olds = {
    create: 'c',
    delete: 'd',
    environment: { A: '1' },
    logging: 'stderr',
    triggers: ['t'],
    stdout: 'out',
    stderr: '',
  };

  it('same inputs (stdout/stderr are outputs, not compared): no change, set explicitly', () => {
    expect(
      diffInputs(olds, { create: 'c', delete: 'd', environment: { A: '1' }, logging: 'stderr', triggers: ['t'] }),
    ).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it.each([
    ['create', { create: 'c2' }],
    ['delete', { delete: 'd2' }],
    ['delete removed', { delete: undefined }],
    ['update added', { update: 'u' }],
    ['environment', { environment: { A: '2' } }],
    ['logging', { logging: 'none' }],
    ['dir', { dir: '/tmp' }],
    ['interpreter', { interpreter: ['/bin/bash', '-c'] }],
    ['stdin', { stdin: 'in' }],
    ['addPreviousOutputInEnv', { addPreviousOutputInEnv: false }],
  ])('a change of %s is an update in place', (_what, change) => {
    expect(
      diffInputs(olds, {
        create: 'c',
        delete: 'd',
        environment: { A: '1' },
        logging: 'stderr',
        triggers: ['t'],
        ...change,
      }),
    ).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it('a change of triggers replaces, create before delete', () => {
    expect(diffInputs(olds, { ...olds, triggers: ['t2'] })).toEqual({
      changes: true,
      replaces: ['triggers'],
      deleteBeforeReplace: false,
    });
  });

  it('secrets are compared by value: wrapping the same value is no change, a new value is', () => {
    const secretOlds = { ...olds, environment: secret({ A: '1' }) };
    expect(diffInputs(secretOlds, { ...olds, environment: { A: secret('1') } }).changes).toBe(false);
    expect(diffInputs(secretOlds, { ...olds, environment: { A: secret('2') } }).changes).toBe(true);
  });

  it('an unknown counts as changed', () => {
    expect(diffInputs(olds, { ...olds, create: unknownValue }).changes).toBe(true);
    expect(diffInputs(olds, { ...olds, triggers: [unknownValue] })).toMatchObject({
      changes: true,
      replaces: ['triggers'],
    });
  });
});

describe('command stand-in: ids, environment, errors', () => {
  it('the id is the resource name and 8 hex digits', () => {
    expect(newId(urnName(URN))).toMatch(/^tandem-schema-expand[0-9a-f]{8}$/);
  });

  it('environment: inherited, then `environment`, then the previous outputs when not empty and not turned off', () => {
    const env = commandEnv(
      { PATH: '/bin', A: 'base' },
      { environment: { A: secret('mine') } },
      { stdout: 'prev', stderr: '' },
    );
    expect(env).toEqual({ PATH: '/bin', A: 'mine', PULUMI_COMMAND_STDOUT: 'prev' });
    expect(commandEnv({}, { addPreviousOutputInEnv: false }, { stdout: 'prev', stderr: 'e' })).toEqual({});
  });

  it('a failed run: exit status, the command quoted as Go does, the combined output', () => {
    expect(runFailure('echo "a"\nexit 3', 3, null, 'a\n')).toBe('exit status 3: running "echo \\"a\\"\\nexit 3":\na\n');
  });
});

describe('command stand-in: the operations run the commands', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cmd-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('create runs create with stdin and dir; outputs are the inputs (secrets kept) plus stdout/stderr with one newline trimmed', async () => {
    const inputs = { create: 'cat; echo err >&2; pwd', stdin: 'in\n', dir, environment: secret({ X: '1' }) };
    const r = await commandProvider.create!(URN, inputs);
    expect(r.id).toMatch(/^tandem-schema-expand[0-9a-f]{8}$/);
    expect(r.outs).toEqual({ ...inputs, stdout: `in\n${fs.realpathSync(dir)}`, stderr: 'err' });
  });

  it('update runs update, else create, else nothing (keeping the previous outputs)', async () => {
    expect(
      (await commandProvider.update!('id', URN, { stdout: 'old', stderr: '' }, { create: 'echo c', update: 'echo u' }))!
        .outs.stdout,
    ).toBe('u');
    expect(
      (await commandProvider.update!(
        'id',
        URN,
        { stdout: 'old', stderr: '' },
        { create: 'echo "$PULUMI_COMMAND_STDOUT"' },
      ))!.outs.stdout,
    ).toBe('old');
    expect((await commandProvider.update!('id', URN, { stdout: 'old', stderr: 'e' }, { delete: 'x' }))!.outs).toEqual({
      delete: 'x',
      stdout: 'old',
      stderr: 'e',
    });
  });

  it("delete runs the state's delete with the state's environment; none means nothing runs", async () => {
    const marker = path.join(dir, 'deleted');
    await commandProvider.delete!('id', URN, {
      delete: `echo "$V" > ${marker}`,
      environment: { V: 'from-state' },
      stdout: '',
    });
    expect(fs.readFileSync(marker, 'utf8')).toBe('from-state\n');
    await expect(commandProvider.delete!('id', URN, { create: 'exit 1' })).resolves.toBeUndefined();
  });

  it('a non-zero exit fails with the exit status, the command and the combined output', async () => {
    await expect(commandProvider.create!(URN, { create: 'echo out; echo why >&2; exit 4' })).rejects.toThrow(
      'exit status 4: running "echo out; echo why >&2; exit 4":\nout\nwhy\n',
    );
  });
});
