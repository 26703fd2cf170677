/**
 * How the walker loads a project's Pulumi program to run it inline (no language host): which file
 * it loads, how it calls it, and what a run may not do to the walker's process.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  inProgramContext,
  invokeProgramExport,
  loadProjectProgram,
  ProgramExitError,
  ProgramNotCompiledError,
} from '../automation/inline-program';
import { forwardingSignals } from '../automation/local-driver';

describe('inline program: loading the project main', () => {
  let dir: string;
  beforeEach(() => (dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-inline-')))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, text: string, mtime?: Date) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
    if (mtime) fs.utimesSync(path.join(dir, file), mtime, mtime);
  };

  it('a JavaScript main exporting a function: called on each run, the module loaded fresh each time (top-level code runs again)', async () => {
    write('Pulumi.yaml', 'name: shop\nruntime: nodejs\nmain: prog.js\n');
    write('counter.js', 'module.exports = { n: 0 };\n');
    write(
      'prog.js',
      "const c = require('./counter'); c.n++; module.exports = async () => ({ runs: c.n, cwd: process.cwd() });\n",
    );
    const p = loadProjectProgram(dir);
    expect(p).toMatchObject({ projectName: 'shop', entry: path.join(dir, 'prog.js'), how: 'javascript' });
    expect(await p.program()).toEqual({ runs: 1, cwd: process.cwd() });
    expect(await p.program()).toEqual({ runs: 1, cwd: process.cwd() });
  });

  it("without main: package.json's main; a module's exports are the outputs; a lone default export is the program", async () => {
    write('Pulumi.yaml', 'name: shop\nruntime:\n  name: nodejs\n');
    write('package.json', JSON.stringify({ main: 'lib/entry.js' }));
    write('lib/entry.js', 'exports.a = 1; exports.b = "two";\n');
    expect(await loadProjectProgram(dir).program()).toEqual({ a: 1, b: 'two' });
    expect(await invokeProgramExport({ __esModule: true, default: async () => ({ c: 3 }) })).toEqual({ c: 3 });
  });

  it('a TypeScript main runs from its compiled JavaScript (tsconfig outDir) when that is up to date', async () => {
    const old = new Date(Date.now() - 60_000);
    write('Pulumi.yaml', 'name: shop\nruntime: nodejs\nmain: index.ts\n');
    write(
      'tsconfig.json',
      '{\n  // comments are fine\n  "compilerOptions": { "rootDir": ".", "outDir": "dist", },\n  "include": ["index.ts", "lib"]\n}\n',
    );
    write('index.ts', 'export = async () => ({ from: "ts" });\n', old);
    write('lib/x.ts', 'export const x = 1;\n', old);
    write('test/y.ts', 'export const y = 1;\n'); // newer, but not in include: not the program's
    write('dist/index.js', 'module.exports = async () => ({ from: "dist" });\n');
    write('dist/lib/x.js', 'exports.x = 1;\n');
    write('dist/test/y.js', 'exports.y = 1;\n', old);
    const p = loadProjectProgram(dir);
    expect(p).toMatchObject({ entry: path.join(dir, 'dist', 'index.js'), how: 'compiled' });
    expect(await p.program()).toEqual({ from: 'dist' });
  });

  it('a TypeScript main whose compiled JavaScript is older than a source, or missing, is refused with the command to run (no ts-node here)', () => {
    write('Pulumi.yaml', 'name: shop\nruntime: nodejs\nmain: index.ts\n');
    write('tsconfig.json', '{ "compilerOptions": { "outDir": "out" } }');
    write('index.ts', 'export = async () => ({});\n');
    expect(() => loadProjectProgram(dir)).toThrow(ProgramNotCompiledError);
    expect(() => loadProjectProgram(dir)).toThrow(
      'out/index.js (its compiled JavaScript) does not exist; compile it (`npx tsc`)',
    );
    write('out/index.js', 'module.exports = async () => ({});\n', new Date(Date.now() - 60_000));
    expect(() => loadProjectProgram(dir)).toThrow('out/index.js is older than index.ts');
  });

  it('no Pulumi.yaml, another runtime, or a main that does not exist: a usage error naming it', () => {
    expect(() => loadProjectProgram(dir)).toThrow(`${dir} has no Pulumi.yaml`);
    write('Pulumi.yaml', 'name: shop\nruntime: python\n');
    expect(() => loadProjectProgram(dir)).toThrow('runtime python');
    write('Pulumi.yaml', 'name: shop\nruntime: nodejs\nmain: nope.js\n');
    expect(() => loadProjectProgram(dir)).toThrow(/main "nope.js" .* does not exist/);
  });
});

describe('inline program: what a run may not do to the walker', () => {
  it('runs in the project directory and restores the working directory afterwards, failed or not', async () => {
    const dir = fs.realpathSync(os.tmpdir());
    const before = process.cwd();
    expect(await inProgramContext(dir, async () => process.cwd())).toBe(dir);
    await expect(inProgramContext(dir, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(process.cwd()).toBe(before);
  });

  it("names the project directory to the program as the language host does: an inline run's runtime state gives it as getRootDirectory(), and the environment is restored", async () => {
    const dir = fs.realpathSync(os.tmpdir());
    const before = process.env.PULUMI_NODEJS_ROOT_DIRECTORY;
    // The Automation API's language server runs each program in a fresh runtime state (withLocalStorage), as here.
    const { withLocalStorage } = require('@pulumi/pulumi/runtime/state');
    const { getRootDirectory } = require('@pulumi/pulumi/runtime/settings');
    expect(await inProgramContext(dir, async () => withLocalStorage(async () => getRootDirectory()))).toBe(dir);
    expect(process.env.PULUMI_NODEJS_ROOT_DIRECTORY).toBe(before);
  });

  it('process.exit in the program throws ProgramExitError instead of ending the walker, and is restored', async () => {
    const exit = process.exit;
    await expect(inProgramContext(os.tmpdir(), async () => process.exit(3))).rejects.toThrow(ProgramExitError);
    expect(process.exit).toBe(exit);
  });

  it('SIGTERM during an engine run aborts the run (which stops the pulumi CLI) instead of killing the walker at once', async () => {
    const keepAlive = () => undefined; // this test's process must not take the re-raised signal
    process.on('SIGTERM', keepAlive);
    try {
      const aborted = await forwardingSignals(
        (signal) =>
          new Promise<boolean>((resolve) => {
            signal.addEventListener('abort', () => resolve(true));
            process.emit('SIGTERM', 'SIGTERM'); // as a kill would deliver it (a real kill would hit jest's own process)
          }),
      );
      expect(aborted).toBe(true);
      expect(process.listenerCount('SIGTERM')).toBe(1);
    } finally {
      process.off('SIGTERM', keepAlive);
    }
  });
});
