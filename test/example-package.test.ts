/**
 * Tandem as a package, the way a team with its own Pulumi program uses it: `npm pack` this project,
 * install the tarball into a scratch copy of examples/shop (npm install from the local tarball,
 * the rest from the npm cache), compile the example with its own TypeScript, and run it under
 * Pulumi's mocks (its own @pulumi/pulumi, in a child process) at stages of two migrations.
 * (npm test builds dist/ first; the tarball packs it without building again.)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { installPackedExample } from './packed-example';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-example-'));

/** Runs the compiled example under mocks and prints what it registered and exported. */
const RUNNER = `
// The language host names the project's directory (the one of Pulumi.yaml) to the program.
process.env.PULUMI_NODEJS_ROOT_DIRECTORY = process.cwd();
const pulumi = require('@pulumi/pulumi');
const [stage, migration] = process.argv.slice(2);
const resources = [];
pulumi.runtime.setMocks({
  newResource(a) { resources.push({ type: a.type, name: a.name, inputs: a.inputs }); return { id: a.custom === false ? undefined : a.name + '-id', state: a.inputs }; },
  call() { return {}; },
}, 'shop', 'dev', false, 'acme');
const yaml = require('yaml');
const cfg = yaml.parse(require('fs').readFileSync('Pulumi.dev.yaml', 'utf8')).config;
const raw = {};
for (const [k, v] of Object.entries(cfg)) raw[k] = typeof v === 'string' ? v : JSON.stringify(v);
raw['tandem:stage'] = stage;
raw['tandem:migration'] = migration;
raw['tandem:databaseUrl'] = 'postgres://tandem_migrator:m@db.acme.internal:5432/shop?sslmode=require';
raw['tandem:appDatabaseUrl'] = 'postgres://tandem_app:a@postgres.shop.svc:5432/shop';
raw['tandem:verifyDatabaseUrl'] = 'postgres://tandem_verify:v@postgres.shop.svc:5432/shop';
pulumi.runtime.setAllConfig(raw, ['tandem:databaseUrl', 'tandem:appDatabaseUrl', 'tandem:verifyDatabaseUrl']);
const program = require('./bin/index.js');
(async () => {
  await pulumi.runtime.waitForRPCs();
  const outputs = {};
  for (const [k, v] of Object.entries(program)) outputs[k] = pulumi.Output.isInstance(v) ? await new Promise((r) => v.apply(r)) : v;
  await pulumi.runtime.waitForRPCs();
  process.stdout.write(JSON.stringify({ resources, outputs }));
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

function run(
  stage: string,
  migration: string,
): { resources: { type: string; name: string; inputs: any }[]; outputs: Record<string, any> } {
  const r = spawnSync(process.execPath, ['run-under-mocks.js', stage, migration], {
    cwd: scratch,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`the example failed at ${migration}@${stage}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

beforeAll(() => {
  installPackedExample('shop', scratch, { extraDependencies: { yaml: '^2.8.0' } });
  fs.writeFileSync(path.join(scratch, 'run-under-mocks.js'), RUNNER);
}, 300_000);

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('the packed package, used by examples/shop', () => {
  it('installs with its types: the example compiles against the tarball, not this checkout', () => {
    const installed = path.join(scratch, 'node_modules', 'tandem');
    expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(fs.existsSync(path.join(installed, 'dist', 'lib', 'index.d.ts'))).toBe(true);
    expect(fs.existsSync(path.join(installed, 'bin', 'tandem.js'))).toBe(true);
    expect(fs.existsSync(path.join(scratch, 'bin', 'index.js'))).toBe(true);
  });

  it.each([
    ['split-full-name', 'baseline', 'ghcr.io/acme/shop:1.14.2', []],
    [
      'split-full-name',
      'contract',
      'ghcr.io/acme/shop@sha256:4f1c3a9e0d2b7c5a8e6f1d3b9a7c5e2f0b8d6a4c2e0f8b6d4a2c0e8f6b4d2a0c',
      ['backfill', 'contract', 'expand', 'verify'],
    ],
    [
      'orders-total-cents',
      'baseline',
      'ghcr.io/acme/shop@sha256:4f1c3a9e0d2b7c5a8e6f1d3b9a7c5e2f0b8d6a4c2e0f8b6d4a2c0e8f6b4d2a0c',
      [],
    ],
    ['orders-total-cents', 'dual-write', 'ghcr.io/acme/shop:1.17.0', ['backfill', 'expand']],
  ])('%s at %s runs %s with the Commands %j', (migration, stage, image, commands) => {
    const { resources, outputs } = run(stage, migration);
    expect(outputs).toMatchObject({ stage, migration, image, rollout: 'shop' });
    const rollout = resources.find((r) => r.type === 'kubernetes:argoproj.io/v1alpha1:Rollout')!;
    expect(rollout.inputs.spec.template.spec.containers[0].image).toBe(image);
    // Named under the component (each with an alias to its former `${migration}-<step>` name).
    expect(
      resources
        .filter((r) => r.type === 'command:local:Command')
        .map((r) => r.name)
        .sort(),
    ).toEqual(commands.map((c) => `shop-${migration}-${c}`));
    // The Commands run the packed CLI, from the team's project directory; the stack's tandem:databaseUrl
    // is the URL the program gave, so they name that key as before (no input of theirs changes).
    for (const c of resources.filter((r) => r.type === 'command:local:Command')) {
      expect(c.inputs.create).toMatch(/^node node_modules\/tandem\/bin\/tandem\.js /);
      expect(c.inputs.environment).toEqual({
        TANDEM_SPEC_SHA256: expect.any(String),
        TANDEM_STACK: 'acme/shop/dev',
        TANDEM_DATABASE_URL_CONFIG: 'tandem:databaseUrl',
      });
    }
    expect(resources.map((r) => r.type)).toContain('kubernetes:core/v1:Namespace');
  });
});
