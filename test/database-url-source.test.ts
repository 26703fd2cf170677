/**
 * One rule for the database URL: a tandem step (the CLI, as a Pulumi Command runs it) and the
 * walker's gates resolve the same URL, or refuse with the same sentence, from the same inputs:
 * --database-url, the stack's tandem:databaseUrl, DATABASE_URL. The CLI reads the stack through
 * a `pulumi` on PATH; here a stand-in prints the stack's config as `pulumi config --json
 * --show-secrets` does, so the table runs without the Pulumi toolchain.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gateDatabaseUrl } from '../automation/gates';
import { CommandContext } from '../cli/command';
import { databaseUrl } from '../cli/step-context';
import { DATABASE_URL_CONFIG_ENV, DATABASE_URL_CONFIG_KEY, STACK_ENV } from '../phases/deploy/schema-commands';
import { FakeStackDriver } from './fake-stack-driver';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-url-rule-'));
const configFile = path.join(dir, 'config.json');
fs.writeFileSync(path.join(dir, 'pulumi'), `#!/bin/sh\ncat "${configFile}"\n`, { mode: 0o755 });

const FLAG = 'postgres://flag@db-flag/app';
const STACK = 'postgres://stack@db-stack/app';
const ENV = 'postgres://env@db-env/app';

type Outcome = { url: string | undefined } | { error: string };
const outcome = async (f: () => Promise<string | undefined> | string | undefined): Promise<Outcome> => {
  try {
    return { url: await f() };
  } catch (e) {
    return { error: (e as Error).message };
  }
};

/** The CLI step, as a Pulumi Command runs it: its environment names the stack and the key. */
function cliUrl(flag: string | undefined, stack: string | undefined, envUrl: string | undefined): Promise<Outcome> {
  fs.writeFileSync(
    configFile,
    JSON.stringify(stack === undefined ? {} : { [DATABASE_URL_CONFIG_KEY]: { value: stack, secret: true } }),
  );
  const env = {
    PATH: `${dir}${path.delimiter}${process.env.PATH}`,
    [STACK_ENV]: 'dev',
    [DATABASE_URL_CONFIG_ENV]: DATABASE_URL_CONFIG_KEY,
    ...(envUrl === undefined ? {} : { DATABASE_URL: envUrl }),
  };
  const ctx = {
    args: { positionals: [], flags: { 'database-url': flag } },
    env,
    json: false,
  } as unknown as CommandContext;
  return outcome(() => databaseUrl(ctx));
}

/** The walker's gates on the same stack. */
function gateUrl(flag: string | undefined, stack: string | undefined, envUrl: string | undefined): Promise<Outcome> {
  const driver = new FakeStackDriver({
    stage: 'expand',
    config: stack === undefined ? {} : { [DATABASE_URL_CONFIG_KEY]: stack },
  });
  return outcome(() =>
    gateDatabaseUrl({ driver, databaseUrl: flag, env: envUrl === undefined ? {} : { DATABASE_URL: envUrl } }),
  );
}

describe('the database URL rule: CLI steps and the walker agree', () => {
  it("the CLI side names the walker's stack", () =>
    expect(new FakeStackDriver({ stage: 'expand' }).stackName).toBe('dev'));

  const flags = [undefined, FLAG, ''];
  const stacks = [undefined, STACK, ''];
  const envs = [undefined, ENV, ''];
  const rows = flags.flatMap((f) => stacks.flatMap((s) => envs.map((e) => [f, s, e] as const)));

  it.each(rows)('flag %p, stack %p, DATABASE_URL %p: the same outcome', async (flag, stack, envUrl) => {
    const cli = await cliUrl(flag, stack, envUrl);
    expect(cli).toEqual(await gateUrl(flag, stack, envUrl));
  });

  it.each([
    [FLAG, STACK, ENV, { url: FLAG }],
    [undefined, STACK, ENV, { url: STACK }],
    [FLAG, undefined, ENV, { url: FLAG }],
    // A stack without the key is refused, never passed over for the shell's DATABASE_URL (before,
    // the gates went on to DATABASE_URL while the CLI step refused).
    [
      undefined,
      undefined,
      ENV,
      {
        error:
          'stack dev has no tandem:databaseUrl: set it with pulumi config set --secret tandem:databaseUrl URL --stack dev, or pass --database-url',
      },
    ],
    // A value given empty is refused, never passed over for another database.
    [
      '',
      STACK,
      ENV,
      { error: '--database-url is empty; give the database URL, e.g. postgres://user:password@host:5432/database' },
    ],
    [
      undefined,
      '',
      ENV,
      {
        error:
          "the stack's tandem:databaseUrl is empty; give the database URL, e.g. postgres://user:password@host:5432/database",
      },
    ],
  ])('flag %p, stack %p, DATABASE_URL %p -> %p', async (flag, stack, envUrl, expected) => {
    expect(await cliUrl(flag, stack, envUrl)).toEqual(expected);
    expect(await gateUrl(flag, stack, envUrl)).toEqual(expected);
  });
});

describe('the database URL rule where no stack is involved (a CLI step run by hand)', () => {
  const url = (flag: string | undefined, envUrl: string | undefined) =>
    outcome(() =>
      databaseUrl({
        args: { positionals: [], flags: { 'database-url': flag } },
        env: envUrl === undefined ? {} : { DATABASE_URL: envUrl },
        json: false,
      } as unknown as CommandContext),
    );
  it.each([
    [FLAG, ENV, { url: FLAG }],
    [undefined, ENV, { url: ENV }],
    [undefined, '', { url: undefined }],
    [undefined, undefined, { url: undefined }],
  ])('flag %p, DATABASE_URL %p -> %p', async (flag, envUrl, expected) => {
    expect(await url(flag, envUrl)).toEqual(expected);
  });
});
