/**
 * The project's Pulumi program as an inline program of the Automation API: the walker loads the
 * project's `main` into its own Node process and hands the engine that function, so `pulumi
 * preview/up` talk to a language runtime inside the walker (`--client=127.0.0.1:PORT`) and never
 * look for the `pulumi-language-nodejs` plugin.
 *
 * Loading follows what the nodejs language host does with a CommonJS program: `main` from
 * Pulumi.yaml (default: package.json's `main`, else the directory's index), required fresh for
 * every run; an exported function is called and its result is the stack outputs, otherwise the
 * module's exports are. A TypeScript `main` runs from its compiled JavaScript (the tsconfig's
 * `outDir`) when every compiled file is at least as new as its source, or through `ts-node` when
 * the project has it; otherwise the walker refuses with the command to run.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { RefusedError, TandemError, UsageError } from '../phases/errors';

/** The program called `process.exit`: inside the walker that would end the walker, so it fails the run instead. */
export class ProgramExitError extends TandemError {
  readonly exitCode = 1;
  readonly kind = 'program_exit';
  constructor(readonly code: number | string | null | undefined) {
    super(
      `the Pulumi program called process.exit(${code ?? ''}); a program run by the walker must fail by throwing instead`,
    );
    this.name = 'ProgramExitError';
  }
}

/** A TypeScript program with no up-to-date compiled JavaScript and no ts-node to run it. */
export class ProgramNotCompiledError extends RefusedError {
  readonly kind = 'program_not_compiled';
  constructor(
    readonly main: string,
    readonly detail: string,
  ) {
    super(
      `the Pulumi program ${main} is TypeScript and ${detail}; compile it (\`npx tsc\`) or add ts-node to the project, then run the command again`,
    );
    this.name = 'ProgramNotCompiledError';
  }
}

export interface ProjectProgram {
  /** Pulumi.yaml's `name`. */
  readonly projectName: string;
  /** The file the program is loaded from (compiled JavaScript or, with ts-node, the TypeScript source). */
  readonly entry: string;
  /** How the entry was chosen, for --debug and the README. */
  readonly how: 'javascript' | 'compiled' | 'ts-node';
  /** The program for `LocalWorkspace.createOrSelectStack({ program })`. */
  readonly program: () => Promise<Record<string, unknown> | void>;
}

interface ProjectFile {
  name?: unknown;
  main?: unknown;
  runtime?: unknown;
}

function readProject(projectDir: string): ProjectFile {
  const file = ['Pulumi.yaml', 'Pulumi.yml'].map((f) => path.join(projectDir, f)).find((f) => fs.existsSync(f));
  if (!file)
    throw new UsageError(
      `${projectDir} has no Pulumi.yaml; run the walker in the Tandem project directory or pass --project DIR`,
    );
  return (parse(fs.readFileSync(file, 'utf8')) ?? {}) as ProjectFile;
}

function runtimeName(runtime: unknown): unknown {
  return typeof runtime === 'object' && runtime !== null ? (runtime as { name?: unknown }).name : runtime;
}

/** The file `main` names, as Node resolves a path: the file, or a directory's package.json main or index. */
function resolveMain(projectDir: string, main: string): string {
  const p = path.resolve(projectDir, main);
  const candidates = [p, `${p}.js`, `${p}.ts`];
  for (const c of candidates) if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  if (fs.existsSync(p) && fs.statSync(p).isDirectory()) {
    const pkg = path.join(p, 'package.json');
    const pkgMain = fs.existsSync(pkg)
      ? (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { main?: unknown }).main
      : undefined;
    if (typeof pkgMain === 'string' && pkgMain !== '.' && pkgMain !== './') return resolveMain(p, pkgMain);
    for (const index of ['index.js', 'index.ts']) if (fs.existsSync(path.join(p, index))) return path.join(p, index);
  }
  throw new UsageError(`the Pulumi program's main "${main}" (${p}) does not exist`);
}

/** tsconfig.json's rootDir and outDir (comments and trailing commas tolerated; `extends` not followed). */
interface TsOutput {
  readonly rootDir: string;
  readonly outDir: string;
  /** tsconfig's `include` entries without wildcards (files or directories), if all are such. */
  readonly include?: readonly string[];
}

function tsOutput(projectDir: string): TsOutput | undefined {
  const file = path.join(projectDir, 'tsconfig.json');
  if (!fs.existsSync(file)) return undefined;
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_, str) => str ?? '')
    .replace(/,(\s*[}\]])/g, '$1');
  let config: { compilerOptions?: { rootDir?: unknown; outDir?: unknown }; include?: unknown };
  try {
    config = JSON.parse(text);
  } catch {
    return undefined;
  }
  const options = config.compilerOptions;
  if (typeof options?.outDir !== 'string') return undefined;
  const include =
    Array.isArray(config.include) && config.include.every((i) => typeof i === 'string' && !/[*?]/.test(i))
      ? (config.include as string[]).map((i) => path.resolve(projectDir, i))
      : undefined;
  return {
    rootDir: path.resolve(projectDir, typeof options.rootDir === 'string' ? options.rootDir : '.'),
    outDir: path.resolve(projectDir, options.outDir),
    include,
  };
}

/**
 * A compiled .js whose source .ts (under rootDir, within the tsconfig's include) is newer than it,
 * if any: the program would run code older than its source.
 */
function staleOutput({ rootDir, outDir, include }: TsOutput): string | undefined {
  const included = (source: string) => !include || include.some((i) => source === i || source.startsWith(i + path.sep));
  const stack = [outDir];
  while (stack.length) {
    const dir = stack.pop()!;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') stack.push(p);
        continue;
      }
      if (!e.name.endsWith('.js')) continue;
      const source = path.join(rootDir, path.relative(outDir, p)).replace(/\.js$/, '.ts');
      if (included(source) && fs.existsSync(source) && fs.statSync(source).mtimeMs > fs.statSync(p).mtimeMs)
        return path.relative(rootDir, source);
    }
  }
  return undefined;
}

/** The JavaScript to load for a TypeScript main, or ts-node registered, or ProgramNotCompiledError. */
function typescriptEntry(projectDir: string, main: string): Pick<ProjectProgram, 'entry' | 'how'> {
  const out = tsOutput(projectDir);
  const shown = path.relative(projectDir, main);
  let why = 'its tsconfig.json names no outDir to find the compiled JavaScript in';
  if (out) {
    const compiled = path.join(out.outDir, path.relative(out.rootDir, main)).replace(/\.ts$/, '.js');
    const stale = fs.existsSync(compiled) ? staleOutput(out) : undefined;
    if (fs.existsSync(compiled) && !stale) return { entry: compiled, how: 'compiled' };
    why = fs.existsSync(compiled)
      ? `${path.relative(projectDir, compiled)} is older than ${stale}`
      : `${path.relative(projectDir, compiled)} (its compiled JavaScript) does not exist`;
  }
  let tsNode: string | undefined;
  try {
    tsNode = require.resolve('ts-node', { paths: [projectDir] });
  } catch {
    throw new ProgramNotCompiledError(shown, why);
  }
  // As the nodejs language host does: transpile only, the project's tsconfig.json when it has one.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- ts-node is found at run time, in the project or beside Tandem
  const tsn = require(tsNode) as { register(o: object): void };
  tsn.register({
    transpileOnly: true,
    skipProject: !fs.existsSync(path.join(projectDir, 'tsconfig.json')),
    project: path.join(projectDir, 'tsconfig.json'),
    compilerOptions: { module: 'commonjs' },
  });
  return { entry: main, how: 'ts-node' };
}

/**
 * Calls the loaded module as the nodejs language host does: an exported function is the program
 * (its result the outputs); a module whose one export is `default` uses that; otherwise the
 * exports are the outputs.
 */
export function invokeProgramExport(exported: unknown): unknown {
  let value = exported;
  if (value && typeof value === 'object' && 'default' in value) {
    const keys = Object.keys(value).filter((k) => k !== '__esModule');
    if (keys.length === 1) value = (value as { default: unknown }).default;
  }
  return value instanceof Function ? value() : value;
}

/** Loads the project's Pulumi.yaml and finds its program; nothing of the program runs yet. */
export function loadProjectProgram(projectDir: string): ProjectProgram {
  const project = readProject(projectDir);
  if (typeof project.name !== 'string' || !project.name)
    throw new UsageError(`${path.join(projectDir, 'Pulumi.yaml')} has no project name`);
  const runtime = runtimeName(project.runtime);
  if (runtime !== 'nodejs')
    throw new UsageError(
      `the walker runs Node.js Pulumi programs only, and ${path.join(projectDir, 'Pulumi.yaml')} says runtime ${String(runtime)}`,
    );
  let mainName = typeof project.main === 'string' ? project.main : undefined;
  if (!mainName) {
    const pkg = path.join(projectDir, 'package.json');
    const pkgMain = fs.existsSync(pkg)
      ? (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { main?: unknown }).main
      : undefined;
    mainName = typeof pkgMain === 'string' ? pkgMain : '.';
  }
  const main = resolveMain(projectDir, mainName);
  const { entry, how } = main.endsWith('.ts')
    ? typescriptEntry(projectDir, main)
    : { entry: main, how: 'javascript' as const };
  const program = async () => {
    // Fresh for every run, as the language host's new process is: a module with top-level
    // resources declares them again. Only modules the run itself loaded are forgotten afterwards.
    const before = new Set(Object.keys(require.cache));
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the team's program, loaded as the nodejs language host loads it
      return (await invokeProgramExport(require(entry))) as Record<string, unknown> | void;
    } finally {
      for (const key of Object.keys(require.cache)) if (!before.has(key)) delete require.cache[key];
      delete require.cache[entry];
    }
  };
  return { projectName: project.name, entry, how, program };
}

/** The environment variable the nodejs language host passes the project's directory in. */
const ROOT_DIRECTORY_ENV = 'PULUMI_NODEJS_ROOT_DIRECTORY';

/**
 * Runs one Automation API call the way the language host would run the program: the working
 * directory is the project's (a program resolves relative paths from there), and process.exit
 * throws ProgramExitError instead of ending the walker. Both are restored afterwards.
 */
export async function inProgramContext<T>(projectDir: string, fn: () => Promise<T>): Promise<T> {
  const cwd = process.cwd();
  const exit = process.exit;
  // The project's directory as the language host names it (pulumi.runtime.getRootDirectory(), read
  // by each inline run's fresh runtime state): TandemMigration resolves spec paths from it.
  const root = process.env[ROOT_DIRECTORY_ENV];
  process.env[ROOT_DIRECTORY_ENV] = path.resolve(projectDir);
  process.chdir(projectDir);
  process.exit = ((code?: number | string | null) => {
    throw new ProgramExitError(code);
  }) as typeof process.exit;
  try {
    return await fn();
  } finally {
    process.exit = exit;
    process.chdir(cwd);
    if (root === undefined) delete process.env[ROOT_DIRECTORY_ENV];
    else process.env[ROOT_DIRECTORY_ENV] = root;
  }
}
