/**
 * The stack configuration as the real `pulumi` CLI sees it: the natural `pulumi config set` of
 * each key passes the CLI's type check of Pulumi.yaml (canarySteps is a string, manageRoles a
 * boolean), and the tandem CLI reads tandem:databaseUrl of a stack with `pulumi config --json --show-secrets`, as
 * the Commands do when they run. Where neither e2e/build.sh's `pulumi` nor one on PATH exists, the suite is skipped and its name
 * says why: it never passes without having run.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findPulumi } from '../automation/pulumi-cli';
import { stackConfigDatabaseUrl } from '../cli/stack-database-url';
import { DATABASE_URL_CONFIG_ENV, STACK_ENV } from '../phases/deploy/schema-commands';

const ROOT = path.join(__dirname, '..');
/** The pulumi e2e/build.sh built, else one on PATH. */
function toolchainPulumi(): string | undefined {
  const dir = execFileSync('bash', [path.join(ROOT, 'e2e', 'build.sh'), '--print-dir'], { encoding: 'utf8' }).trim();
  const built = path.join(dir, 'bin', 'pulumi');
  return fs.existsSync(built) ? built : findPulumi();
}
const PULUMI = toolchainPulumi();
const suite = PULUMI ? describe : describe.skip;
const title = PULUMI
  ? 'the real pulumi CLI'
  : 'the real pulumi CLI (skipped: no pulumi CLI built by e2e/build.sh pulumi, nor one on PATH)';

suite(title, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cli-config-'));
  const env = {
    ...process.env,
    // The Commands run the tandem CLI under the engine, whose PATH holds the pulumi that runs it.
    PATH: `${path.dirname(PULUMI!)}${path.delimiter}${process.env.PATH}`,
    PULUMI_BACKEND_URL: `file://${path.join(dir, 'state')}`,
    PULUMI_CONFIG_PASSPHRASE: 'test-passphrase',
    PULUMI_HOME: path.join(dir, 'home'),
    PULUMI_SKIP_UPDATE_CHECK: '1',
  };
  const pulumi = (...args: string[]) =>
    spawnSync(PULUMI!, [...args, '--non-interactive'], { cwd: dir, env, encoding: 'utf8' });
  const URL = 'postgres://tandem_migrator:s3cret@localhost:5432/shop';

  beforeAll(() => {
    fs.mkdirSync(path.join(dir, 'state'));
    // The project file as it is; the program is not needed to check the configuration.
    fs.copyFileSync(path.join(ROOT, 'Pulumi.yaml'), path.join(dir, 'Pulumi.yaml'));
    expect(pulumi('stack', 'init', 'dev').status).toBe(0);
    for (const [k, v] of [
      ['stage', 'expand'],
      ['appImage', 'ghcr.io/acme/shop'],
      ['verifyImage', 'ghcr.io/acme/tandem:0.1.0'],
      ['replicas', '3'],
    ]) {
      expect(pulumi('config', 'set', `tandem:${k}`, v).status).toBe(0);
    }
    for (const k of ['databaseUrl', 'appDatabaseUrl', 'verifyDatabaseUrl'])
      expect(pulumi('config', 'set', '--secret', `tandem:${k}`, URL).status).toBe(0);
  }, 120_000);

  /** The CLI's "validating stack config" error of a preview, or '' (the preview fails later: there is no program here). */
  const configError = () => {
    const r = pulumi('preview');
    return `${r.stdout}${r.stderr}`.split('\n').find((l) => l.includes('validating stack config')) ?? '';
  };

  it('accepts tandem:canarySteps and tandem:manageRoles set the natural way', () => {
    expect(
      pulumi('config', 'set', 'tandem:canarySteps', 'setWeight 20, pause 1m, analysis, setWeight 100').status,
    ).toBe(0);
    expect(pulumi('config', 'set', 'tandem:manageRoles', 'false').status).toBe(0);
    expect(configError()).toBe('');
  }, 120_000);

  it('refuses a list set with --path, so the README tells the user not to (and the check above can fail)', () => {
    expect(pulumi('config', 'rm', 'tandem:canarySteps').status).toBe(0);
    expect(pulumi('config', 'set', '--path', 'tandem:canarySteps[0]', 'analysis').status).toBe(0);
    expect(configError()).toContain("configuration key 'canarySteps' must be of type 'string'");
    expect(pulumi('config', 'rm', 'tandem:canarySteps').status).toBe(0);
  }, 120_000);

  it('the tandem CLI reads tandem:databaseUrl of the stack the Commands name, decrypted', () => {
    const url = stackConfigDatabaseUrl(
      { ...env, [STACK_ENV]: 'organization/tandem/dev', [DATABASE_URL_CONFIG_ENV]: 'tandem:databaseUrl' },
      dir,
    );
    expect(url).toEqual({ stack: 'organization/tandem/dev', key: 'tandem:databaseUrl', value: URL });
    expect(() =>
      stackConfigDatabaseUrl(
        { ...env, [STACK_ENV]: 'organization/tandem/nope', [DATABASE_URL_CONFIG_ENV]: 'tandem:databaseUrl' },
        dir,
      ),
    ).toThrow(/could not read tandem:databaseUrl of stack organization\/tandem\/nope with pulumi config: /);
    // A stack without the key: no value (the rule then refuses, as the walker's gates do).
    expect(
      stackConfigDatabaseUrl(
        { ...env, [STACK_ENV]: 'organization/tandem/dev', [DATABASE_URL_CONFIG_ENV]: 'tandem:noSuchKey' },
        dir,
      ),
    ).toEqual({ stack: 'organization/tandem/dev', key: 'tandem:noSuchKey', value: undefined });
  }, 120_000);
});
