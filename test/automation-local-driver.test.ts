import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chooseBackend, openLocalStack } from '../automation/local-driver';
import { findPulumi } from '../automation/pulumi-cli';
import { PulumiCommandError, PulumiMissingError } from '../automation/walk-errors';

/** What the LocalWorkspace driver decides before it ever runs pulumi: CLI present, project, backend, passphrase. */
describe('local driver: checks made before pulumi runs', () => {
  let dir: string;
  let bin: string;
  let project: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-driver-'));
    bin = path.join(dir, 'bin');
    project = path.join(dir, 'project');
    fs.mkdirSync(bin);
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'Pulumi.yaml'), 'name: tandem\nruntime: nodejs\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A `pulumi` that fails loudly if anything runs it: these checks must come first. */
  const fakePulumi = (mode = 0o755) => {
    fs.writeFileSync(path.join(bin, 'pulumi'), '#!/bin/sh\necho "fake pulumi must not run" >&2\nexit 99\n', { mode });
    fs.chmodSync(path.join(bin, 'pulumi'), mode);
  };

  it('findPulumi finds an executable pulumi on PATH and ignores a non-executable one', () => {
    expect(findPulumi({ PATH: ['/nonexistent', bin].join(path.delimiter) })).toBeUndefined();
    fakePulumi(0o644);
    expect(findPulumi({ PATH: bin })).toBeUndefined();
    fakePulumi();
    expect(findPulumi({ PATH: ['/nonexistent', bin].join(path.delimiter) })).toBe(path.join(bin, 'pulumi'));
  });

  it('no pulumi on PATH: PulumiMissingError, exit 1, with the install link', async () => {
    const err = await openLocalStack({ stackName: 'dev', projectDir: project, env: { PATH: '/nonexistent' } }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(PulumiMissingError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain('https://www.pulumi.com/docs/install/');
  });

  it('a directory without Pulumi.yaml: a usage error naming it', async () => {
    fakePulumi();
    await expect(openLocalStack({ stackName: 'dev', projectDir: dir, env: { PATH: bin } })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining(`${dir} has no Pulumi.yaml`),
    });
  });

  it('the local backend without a passphrase: a usage error saying which variable to set', async () => {
    fakePulumi();
    await expect(
      openLocalStack({
        stackName: 'dev',
        projectDir: project,
        env: { PATH: bin, PULUMI_HOME: path.join(dir, 'home') },
      }),
    ).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('set PULUMI_CONFIG_PASSPHRASE'),
    });
  });

  describe('chooseBackend', () => {
    const home = () => path.join(dir, 'home');
    it('uses PULUMI_BACKEND_URL when set', () => {
      expect(chooseBackend(project, { PULUMI_BACKEND_URL: 's3://bucket', PULUMI_HOME: home() })).toEqual({
        url: 's3://bucket',
        local: false,
      });
    });
    it("uses Pulumi.yaml's backend.url", () => {
      fs.writeFileSync(
        path.join(project, 'Pulumi.yaml'),
        'name: tandem\nruntime: nodejs\nbackend:\n  url: gs://state\n',
      );
      expect(chooseBackend(project, { PULUMI_HOME: home() })).toEqual({ url: 'gs://state', local: false });
    });
    it('uses the backend of a `pulumi login`', () => {
      fs.mkdirSync(home());
      fs.writeFileSync(
        path.join(home(), 'credentials.json'),
        JSON.stringify({ current: 'https://api.pulumi.com', accessTokens: {} }),
      );
      expect(chooseBackend(project, { PULUMI_HOME: home() })).toEqual({ url: undefined, local: false });
    });
    it("otherwise a file backend under the project's .tandem/state", () => {
      expect(chooseBackend(project, { PULUMI_HOME: home() })).toEqual({
        url: `file://${path.join(project, '.tandem', 'state')}`,
        local: true,
      });
    });
  });
});

describe('PulumiCommandError', () => {
  it("keeps only the CLI's error lines in its message", () => {
    const cause = new Error(
      'code: 255\n stdout: Previewing update (dev)\n  + command:local:Command schema-expand create\n stderr:     error: update failed\n    error: resource violates plan: properties changed\n    error: update failed\n err?: Error: Command failed with exit code 255: pulumi up --yes\n',
    );
    const e = new PulumiCommandError('up', 'dev', cause);
    expect(e.message).toBe(
      'pulumi up on stack dev failed: error: update failed error: resource violates plan: properties changed',
    );
    expect(e.exitCode).toBe(1);
    expect(e.cause).toBe(cause);
  });

  it("keeps a failed Command's output, the lines under its error in the Diagnostics section (as pulumi 3.274 prints them)", () => {
    // Captured from a real `pulumi up` (v3.274.1) whose Command exited 3.
    const diagnostics = [
      'Diagnostics:',
      '  pulumi:pulumi:Stack (trial-dev):',
      '    error: update failed',
      '',
      '  command:local:Command (c):',
      '    error: exit status 3: running "echo created bad $PWD; echo reason line 1; echo reason line 2 >&2; exit 3":',
      '    created bad /tmp/i16try/proj',
      '    reason line 1',
      '    reason line 2',
      '',
      'Outputs:',
      '  - out: [secret]',
      '',
      'Resources:',
      '    1 unchanged',
      '    2 errored',
      '',
    ].join('\n');
    const progress =
      ' ~  command:local:Command c **updating failed** [diff: ~create]; error: exit status 3: running "echo created bad $PWD; echo reason line 1; echo reason line 2 >&2; exit 3":\n' +
      '    pulumi:pulumi:Stack trial-dev running error: update failed\n';
    const cause = new Error(
      `code: -2\n stdout: \n stderr: Command failed with exit code 1: pulumi up --yes\nUpdating (dev):\n\n${progress}${diagnostics}\n err?: Error: Command failed with exit code 1: pulumi up\n${progress}${diagnostics}`,
    );
    const e = new PulumiCommandError('up', 'dev', cause);
    expect(e.message).toBe(
      'pulumi up on stack dev failed: error: update failed error: exit status 3: running "echo created bad $PWD; echo reason line 1; echo reason line 2 >&2; exit 3":\n' +
        '  created bad /tmp/i16try/proj\n  reason line 1\n  reason line 2',
    );
  });
});
