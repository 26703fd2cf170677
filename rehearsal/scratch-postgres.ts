import { TandemError } from '../phases/errors';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/**
 * A throwaway PostgreSQL server built from the local server binaries: its own data directory,
 * port and socket directory, trust auth on loopback only, removed on stop. The test harness and
 * `tandem rehearse` (its embedded default) both use it.
 */
export interface ScratchPostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** A connection URL for another database on the same server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export class PostgresBinariesMissingError extends TandemError {
  readonly kind = 'postgres_binaries_missing';
  readonly exitCode = 1;
  constructor(readonly searched: string[]) {
    super(
      `PostgreSQL server binaries (initdb, pg_ctl) were not found in ${searched.join(', ')}: ` +
        'install them (Debian: apt-get install postgresql-15) or set TANDEM_PG_BIN to their directory.',
    );
    this.name = 'PostgresBinariesMissingError';
  }
}

/** Where initdb and pg_ctl live: TANDEM_PG_BIN (only it, when set), else the newest /usr/lib/postgresql/N/bin, then pg_config. */
export class PostgresBinDirError extends TandemError {
  readonly exitCode = 2;
  readonly kind = 'usage';
  constructor(
    readonly dir: string,
    missing: string[],
  ) {
    super(
      `TANDEM_PG_BIN is ${dir}, which has no ${missing.join(' and ')}: point it at the directory holding the PostgreSQL server binaries (e.g. /usr/lib/postgresql/15/bin), or unset it`,
    );
    this.name = 'PostgresBinDirError';
  }
}

export function findPostgresBin(): string {
  const searched: string[] = [];
  const candidates: string[] = [];
  const given = process.env.TANDEM_PG_BIN;
  if (given) {
    // Set means meant: a wrong directory is an error, never a silent fallback to other binaries.
    const missing = ['initdb', 'pg_ctl'].filter((b) => !fs.existsSync(path.join(given, b)));
    if (missing.length) throw new PostgresBinDirError(given, missing);
    return given;
  }
  const debianRoot = '/usr/lib/postgresql';
  if (fs.existsSync(debianRoot)) {
    const versions = fs
      .readdirSync(debianRoot)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    // 15 is what the project is tested on; prefer it, then the newest.
    versions.sort((a, b) => (a === '15' ? -1 : b === '15' ? 1 : 0));
    for (const v of versions) candidates.push(path.join(debianRoot, v, 'bin'));
  }
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0 && pgConfig.stdout.trim()) candidates.push(pgConfig.stdout.trim());
  for (const dir of candidates) {
    searched.push(dir);
    if (fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl'))) return dir;
  }
  throw new PostgresBinariesMissingError(searched.length ? searched : [debianRoot]);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** As root, PostgreSQL refuses to run: the server runs as the `postgres` OS user via runuser. */
function asServerUser(bin: string, args: string[]): [string, string[]] {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

function run(bin: string, args: string[], what: string): void {
  const [cmd, argv] = asServerUser(bin, args);
  const result = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (result.status !== 0) {
    const detail = (result.stderr || result.stdout || String(result.error ?? ''))
      .trim()
      .split('\n')
      .slice(-3)
      .join(' ');
    throw new Error(`${what} failed: ${detail}`);
  }
}

export interface ScratchPostgresOptions {
  /** Extra server settings, e.g. { max_connections: '200' }. */
  settings?: Record<string, string>;
}

export async function startScratchPostgres(options: ScratchPostgresOptions = {}): Promise<ScratchPostgres> {
  const bin = findPostgresBin();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-pg-'));
  const dataDir = path.join(root, 'data');
  const socketDir = path.join(root, 'sock');
  fs.mkdirSync(socketDir);
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    fs.chownSync(root, uid, gid);
    fs.chownSync(socketDir, uid, gid);
  }
  try {
    run(
      path.join(bin, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      'initdb',
    );
    const port = await freePort();
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      unix_socket_directories: socketDir,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '200',
      ...options.settings,
    };
    const serverOptions = Object.entries(settings)
      .map(([k, v]) => `-c ${k}=${v}`)
      .join(' ');
    run(
      path.join(bin, 'pg_ctl'),
      ['-D', dataDir, '-l', path.join(root, 'server.log'), '-o', serverOptions, '-w', '-t', '60', 'start'],
      'starting PostgreSQL',
    );
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    let stopped = false;
    return {
      url,
      port,
      dataDir,
      urlFor: (database: string) => `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        try {
          run(path.join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], 'stopping PostgreSQL');
        } finally {
          fs.rmSync(root, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    fs.rmSync(root, { recursive: true, force: true });
    throw err;
  }
}
