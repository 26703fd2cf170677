/**
 * An example program of examples/ as a team has it: `npm pack` this project, copy the example into
 * a scratch directory, point its `tandem` dependency at the tarball, `npm install` (the rest from
 * the npm cache or the registry) and compile it with its own TypeScript. Used by the tests that
 * run an example under mocks and by the end-to-end test that walks one on the real engine.
 * (dist/ must be built first: the tarball packs it without building again.)
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export interface PackedExampleOptions {
  /** Dependencies the test adds to the example's package.json (e.g. `yaml` for a runner script). */
  readonly extraDependencies?: Readonly<Record<string, string>>;
}

/** Packs this project into `<scratch>/pack` and returns the tarball's path. */
export function packTandem(scratch: string): string {
  const packDir = path.join(scratch, 'pack');
  fs.mkdirSync(packDir, { recursive: true });
  execFileSync(npm, ['pack', '--ignore-scripts', '--silent', '--pack-destination', packDir], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  return path.join(packDir, 'tandem-0.1.0.tgz');
}

/** Points the copied example's `tandem` dependency at the tarball (it names ../../tandem-0.1.0.tgz in the repository). */
function useTarball(scratch: string, tarball: string, extra: Readonly<Record<string, string>>): void {
  const file = path.join(scratch, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (pkg.dependencies?.tandem !== 'file:../../tandem-0.1.0.tgz')
    throw new Error(`${file} does not depend on tandem as file:../../tandem-0.1.0.tgz (${pkg.dependencies?.tandem})`);
  pkg.dependencies = { ...pkg.dependencies, tandem: `file:${tarball}`, ...extra };
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2));
}

function compile(scratch: string): void {
  try {
    execFileSync(
      process.execPath,
      [path.join(scratch, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
      { cwd: scratch, stdio: 'pipe' },
    );
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`the example does not compile against the tarball:\n${e.stdout ?? ''}${e.stderr ?? ''}`, {
      cause: err,
    });
  }
}

/** examples/<example> packed, installed and compiled in `scratch` (which must exist). */
export function installPackedExample(example: string, scratch: string, options: PackedExampleOptions = {}): void {
  const tarball = packTandem(scratch);
  fs.cpSync(path.join(ROOT, 'examples', example), scratch, { recursive: true });
  useTarball(scratch, tarball, options.extraDependencies ?? {});
  execFileSync(
    npm,
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
    { cwd: scratch, stdio: 'pipe', timeout: 240_000 },
  );
  compile(scratch);
}
