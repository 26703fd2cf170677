import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  CommandOrderError,
  CommandPathError,
  DATABASE_URL_CONFIG_ENV,
  planSchemaCommands,
  refuseUndoContractLine,
  SPEC_HASH_ENV,
  STACK_ENV,
  tandemCommandLine,
} from '../phases/deploy/schema-commands';
import { shellQuote } from '../phases/deploy/shell-quote';
import { SchemaCommandStep } from '../phases/deploy/stack-state';
import { COMPONENT_TYPES } from '../phases/deploy/resource-side';
import { RecordedResource } from './mocks';
import { MIGRATOR_URL, runStack, writeSpec } from './stack-run';

const CTX = {
  cliPath: 'bin/tandem.js',
  specPath: 'migrations/split-full-name.yaml',
  specHash: 'abc123',
  stack: 'acme/tandem/prod',
};

describe('planSchemaCommands', () => {
  it.each([
    [
      'expand',
      'node bin/tandem.js expand migrations/split-full-name.yaml >/dev/null',
      'node bin/tandem.js rollback migrations/split-full-name.yaml >/dev/null',
      [],
    ],
    ['backfill', 'node bin/tandem.js backfill migrations/split-full-name.yaml >/dev/null', undefined, ['expand']],
    ['verify', 'node bin/tandem.js verify migrations/split-full-name.yaml >/dev/null', undefined, ['backfill']],
    [
      'contract',
      'node bin/tandem.js contract migrations/split-full-name.yaml >/dev/null',
      refuseUndoContractLine('migrations/split-full-name.yaml'),
      ['verify'],
    ],
  ] as const)('%s: create %s, delete %s, after %j', (role, create, del, after) => {
    const plan = planSchemaCommands(['expand', 'backfill', 'verify', 'contract'], CTX).find((p) => p.role === role)!;
    expect(plan.create).toBe(create);
    expect(plan.delete).toBe(del);
    expect(plan.deleteRunsRollback).toBe(role === 'expand');
    expect(plan.deleteRefuses).toBe(role === 'contract');
    expect(plan.dependsOn).toEqual(after);
    expect(plan.environment).toEqual({
      [SPEC_HASH_ENV]: 'abc123',
      [STACK_ENV]: 'acme/tandem/prod',
      [DATABASE_URL_CONFIG_ENV]: 'tandem:databaseUrl',
    });
  });

  it.each([
    [['backfill'], 'backfill', ['expand']],
    [['expand', 'contract'], 'contract', ['verify']],
    [['expand', 'backfill', 'contract'], 'contract', ['verify']],
  ] as const)('refuses %j: %s needs %j', (roles, role, missing) => {
    let caught: unknown;
    try {
      planSchemaCommands(roles as readonly SchemaCommandStep[], CTX);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CommandOrderError);
    expect(caught).toMatchObject({ role, missing });
  });

  it('the contract delete line fails with a sentence on stderr, under /bin/sh', () => {
    const r = spawnSync('/bin/sh', ['-c', refuseUndoContractLine("it's.yaml")], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("contract of it's.yaml cannot be undone");
  });

  it('quotes a spec path with spaces or quotes for /bin/sh', () => {
    expect(tandemCommandLine({ ...CTX, specPath: "my specs/it's.yaml" }, 'expand')).toBe(
      `node bin/tandem.js expand 'my specs/it'\\''s.yaml' >/dev/null`,
    );
  });

  it.each([
    ['CLI', { cliPath: '/work/tandem/bin/tandem.js' }],
    ['spec', { specPath: '/work/tandem/migrations/x.yaml' }],
  ] as const)('refuses an absolute %s path: it would pin the checkout into the state', (what, override) => {
    expect(() => planSchemaCommands(['expand'], { ...CTX, ...override })).toThrow(CommandPathError);
    expect(() => planSchemaCommands(['expand'], { ...CTX, ...override })).toThrow(`the ${what} path`);
  });

  it("discards the CLI's stdout, so a failing step's result lines (verify's sample keys) never reach Pulumi's logs", () => {
    const line = tandemCommandLine({ cliPath: 'fake-cli.js', specPath: 'spec.yaml' }, 'verify');
    const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'tandem-cli-'));
    fs.writeFileSync(
      path.join(dir, 'fake-cli.js'),
      `console.log('not consistent: keys 17, 42'); console.error('failed: verify'); process.exit(1);`,
    );
    const r = spawnSync('/bin/sh', ['-c', line], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('failed: verify\n');
  });

  it.each([
    ['plain/path-1.yaml', 'plain/path-1.yaml'],
    ['a b', `'a b'`],
    ['$(rm -rf /)', `'$(rm -rf /)'`],
    ['x;y', `'x;y'`],
    ["it's", `'it'\\''s'`],
    ['', `''`],
  ])('shellQuote(%j) is %s', (arg, quoted) => {
    expect(shellQuote(arg)).toBe(quoted);
  });
});

describe('SchemaChange in the program (contract stage: every Command)', () => {
  let commands: RecordedResource[];
  let all: RecordedResource[];
  const spec = writeSpec();

  beforeAll(async () => {
    all = (await runStack('contract', spec)).recorder.all;
    commands = all.filter((r) => r.type === 'command:local:Command');
  });

  it('declares its Commands as children of one SchemaChange named for the spec', () => {
    const parent = all.find((r) => r.type === COMPONENT_TYPES.schemaChange)!;
    expect(parent.name).toBe('split-full-name');
    expect(commands.map((c) => c.parentUrn)).toEqual(commands.map(() => parent.urn));
  });

  it('carries no credentials in any input: the environment names the stack and the config key the CLI reads', () => {
    for (const c of commands) {
      expect(c.inputs.environment).toEqual({
        [SPEC_HASH_ENV]: expect.any(String),
        [STACK_ENV]: 'organization/tandem/test',
        [DATABASE_URL_CONFIG_ENV]: 'tandem:databaseUrl',
      });
      expect(c.secretInputs).toEqual([]);
      expect(JSON.stringify(c.inputs)).not.toContain('migrator-secret');
      expect(JSON.stringify(c.inputs)).not.toContain(new URL(MIGRATOR_URL).hostname);
    }
  });

  it('marks stdout and stderr secret and logs stderr only', () => {
    for (const c of commands) {
      expect(c.additionalSecretOutputs).toEqual(expect.arrayContaining(['stdout', 'stderr']));
      expect(c.inputs.logging).toBe('stderr');
      expect(c.inputs.addPreviousOutputInEnv).toBe(false);
    }
  });

  it('has no dir: paths relative to the project directory, where the engine runs its plugins', () => {
    const root = path.join(__dirname, '..');
    for (const c of commands) {
      expect(c.inputs).not.toHaveProperty('dir');
      const [node, cli, , specArg] = (c.inputs.create as string).split(' ');
      expect(node).toBe('node');
      expect(path.isAbsolute(cli) || path.isAbsolute(specArg)).toBe(false);
      expect(fs.existsSync(path.join(root, cli))).toBe(true);
      expect(path.resolve(root, specArg)).toBe(spec);
    }
  });
});
