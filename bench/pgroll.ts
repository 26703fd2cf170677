import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { Client } from 'pg';

/**
 * pgroll, built from its Go module into a cache outside the checkout, for the side-by-side
 * measurement. The module proxy is asked for `latest`; it answers 403 for pgroll's version list
 * (and so for `latest`) on some mirrors, so a version known to be served is the fallback. The
 * checksum database has no entry for pgroll (404), so its checksum is not verified against it:
 * GONOSUMDB for that one module; its dependencies are verified as usual.
 */
export const PGROLL_MODULE = 'github.com/xataio/pgroll';
export const PGROLL_FALLBACK_VERSION = 'v0.14.1';

export interface PgrollBuild {
  readonly bin: string | null;
  readonly version: string | null;
  /** Why there is no binary. */
  readonly reason?: string;
}

const cacheRoot = () => path.join(os.homedir(), '.cache', 'tandem-bench');

function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GONOSUMDB: PGROLL_MODULE, GOFLAGS: '-mod=mod' };
}

function latestServed(): { version: string; note?: string } {
  const r = spawnSync('go', ['list', '-m', '-json', `${PGROLL_MODULE}@latest`], {
    encoding: 'utf8',
    env: goEnv(),
    cwd: os.tmpdir(),
    timeout: 120_000,
  });
  if (r.status === 0) {
    try {
      return { version: JSON.parse(r.stdout).Version };
    } catch {
      /* fall through */
    }
  }
  const why = (r.stderr || String(r.error ?? '')).trim().split('\n')[0];
  return {
    version: PGROLL_FALLBACK_VERSION,
    note: `the module proxy did not say which pgroll is latest (${why}); using ${PGROLL_FALLBACK_VERSION}`,
  };
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: goEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => resolve({ code: -1, output: String(err) }));
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

/**
 * The cached binary, or a build of it (minutes on 2 cores: start it early). `go install
 * module@version` needs the module's version list for its deprecation check, which the proxy
 * refuses, so the build goes through a small module that requires pgroll.
 */
export async function buildPgroll(log: (text: string) => void): Promise<PgrollBuild> {
  const which = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (which.status !== 0) return { bin: null, version: null, reason: 'the go toolchain is not installed' };
  const { version, note } = latestServed();
  if (note) log(note);
  const dir = path.join(cacheRoot(), `pgroll-${version}`);
  const bin = path.join(dir, 'pgroll');
  if (fs.existsSync(bin)) return { bin, version };
  const work = path.join(cacheRoot(), `pgroll-build-${version}`);
  fs.mkdirSync(work, { recursive: true });
  fs.writeFileSync(
    path.join(work, 'go.mod'),
    `module tandem-bench/pgroll-build\n\ngo 1.24\n\nrequire ${PGROLL_MODULE} ${version}\n`,
  );
  fs.writeFileSync(path.join(work, 'tools.go'), `//go:build tools\n\npackage tools\n\nimport _ "${PGROLL_MODULE}"\n`);
  log(`building pgroll ${version} into ${dir} (minutes on a small machine)`);
  const tidy = await run('go', ['mod', 'tidy'], work);
  if (tidy.code !== 0)
    return {
      bin: null,
      version,
      reason: `go mod tidy for pgroll ${version} failed: ${tidy.output.trim().split('\n').slice(-2).join(' ')}`,
    };
  fs.mkdirSync(dir, { recursive: true });
  const build = await run('go', ['build', '-o', bin, PGROLL_MODULE], work);
  if (build.code !== 0)
    return {
      bin: null,
      version,
      reason: `go build of pgroll ${version} failed: ${build.output.trim().split('\n').slice(-2).join(' ')}`,
    };
  return { bin, version };
}

/**
 * The same refactoring as migrations/split-full-name.yaml, in pgroll's migration format: two
 * add_column with `up` and a drop_column with `down`.
 */
export const PGROLL_MIGRATION = `operations:
  - add_column:
      table: customers
      up: "split_part(full_name, ' ', 1)"
      column:
        name: first_name
        type: text
        nullable: true
  - add_column:
      table: customers
      up: "nullif(substr(full_name, length(split_part(full_name, ' ', 1)) + 2), '')"
      column:
        name: last_name
        type: text
        nullable: true
  - drop_column:
      table: customers
      column: full_name
      down: "concat_ws(' ', first_name, last_name)"
`;

/**
 * `pgroll init`, `baseline`, then `pgroll start` (DDL, triggers and its backfill): the wall time
 * of start. pgroll's backfill sets the primary key to itself to fire its triggers, which
 * PostgreSQL refuses for `GENERATED ALWAYS AS IDENTITY` ("column "id" can only be updated to
 * DEFAULT"), so pgroll's copy of the table gets `GENERATED BY DEFAULT` (a catalog-only change).
 */
export async function pgrollStart(bin: string, url: string): Promise<{ seconds: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-pgroll-'));
  try {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      await c.query('ALTER TABLE customers ALTER COLUMN id SET GENERATED BY DEFAULT');
    } finally {
      await c.end();
    }
    const pgUrl = url.includes('?') ? `${url}&sslmode=disable` : `${url}?sslmode=disable`;
    const init = await run(bin, ['init', '--postgres-url', pgUrl], dir);
    if (init.code !== 0) throw new Error(`pgroll init failed: ${init.output.trim().split('\n').slice(-2).join(' ')}`);
    // pgroll refuses a non-empty schema without history: record the table as it is first.
    const baseline = await run(
      bin,
      ['baseline', '00_baseline', path.join(dir, 'baseline'), '--yes', '--postgres-url', pgUrl],
      dir,
    );
    if (baseline.code !== 0 || /run `pgroll|error/i.test(baseline.output))
      throw new Error(`pgroll baseline failed: ${baseline.output.trim().split('\n').slice(-2).join(' ')}`);
    const file = path.join(dir, '01_split_full_name.yaml');
    fs.writeFileSync(file, PGROLL_MIGRATION);
    const started = performance.now();
    const start = await run(bin, ['start', file, '--postgres-url', pgUrl], dir);
    const seconds = (performance.now() - started) / 1000;
    // pgroll start prints some refusals and exits 0: a start that added no column is a failure.
    if (start.code !== 0 || /run `pgroll|error/i.test(start.output))
      throw new Error(`pgroll start failed: ${start.output.trim().split('\n').slice(-3).join(' ')}`);
    return { seconds };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
