/**
 * The Pulumi SDKs are pinned to exact versions. The engine runs a provider plugin of exactly the
 * version its npm SDK asks for, and the default provider's URN carries that version: a caret range
 * that lets `npm install` pick a newer minor renames the default provider, which shows as a change
 * on one side in the next step's preview and blocks the walk. The lock file must agree.
 */
import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));

const EXACT = /^\d+\.\d+\.\d+$/;
const PULUMI_PACKAGES = ['@pulumi/pulumi', '@pulumi/kubernetes', '@pulumi/command', '@pulumi/postgresql'];

describe('Pulumi SDK pins', () => {
  it.each(PULUMI_PACKAGES)('%s is an exact version, the same in package-lock.json', (name) => {
    const wanted: string = pkg.dependencies[name];
    expect(wanted).toMatch(EXACT);
    expect(lock.packages[`node_modules/${name}`].version).toBe(wanted);
  });

  it.each([
    ['@pulumi/kubernetes', '4.25.0'],
    ['@pulumi/command', '1.2.1'],
  ])('%s is %s, the provider version the end-to-end toolchain builds', (name, version) => {
    expect(pkg.dependencies[name]).toBe(version);
  });

  it('@pulumi/pulumi stays on 3.248.x (3.249 and later need Node 22)', () => {
    expect(pkg.dependencies['@pulumi/pulumi']).toMatch(/^3\.248\.\d+$/);
  });
});
