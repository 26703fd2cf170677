import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { expand, verify } from '../executor';
import { findPostgresBin, ScratchPostgres, startScratchPostgres } from '../rehearsal/scratch-postgres';
import { runCli } from './cli-run';
import { sql } from './db';
import { createCustomers, splitSpec, SPLIT_SPEC_PATH } from './fixtures';

/**
 * --max-lag against a real streaming replica: a primary of its own (so other test files' commits
 * do not keep the replica behind), a replica made by `pg_basebackup -R` whose replay of every
 * commit is delayed by recovery_min_apply_delay. The backfill must pause while the replica is
 * behind and resume when it has caught up, and say so in its progress output.
 */
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function asServerUser(bin: string, args: string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

function run(bin: string, args: string[]): void {
  const [cmd, argv] = asServerUser(bin, args);
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${path.basename(bin)} failed: ${(r.stderr || r.stdout).trim()}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

describe('backfill --max-lag with a real streaming replica', () => {
  let primary: ScratchPostgres;
  let replicaDir: string;
  let root: string;
  const bin = findPostgresBin();

  beforeAll(async () => {
    primary = await startScratchPostgres({ settings: { wal_level: 'replica', max_wal_senders: '5' } });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-replica-'));
    replicaDir = path.join(root, 'data');
    const socketDir = path.join(root, 'sock');
    fs.mkdirSync(socketDir);
    if (isRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      fs.chownSync(root, uid, gid);
      fs.chownSync(socketDir, uid, gid);
    }
    run(path.join(bin, 'pg_basebackup'), [
      '-D',
      replicaDir,
      '-R',
      '-X',
      'stream',
      '-h',
      '127.0.0.1',
      '-p',
      String(primary.port),
      '-U',
      'postgres',
      '--no-sync',
    ]);
    const port = await freePort();
    const options = [
      `-c port=${port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${socketDir}`,
      '-c hot_standby=on',
      // A hot standby needs at least the primary's max_connections (the scratch server runs 200).
      '-c max_connections=200',
      '-c recovery_min_apply_delay=2s',
      "-c primary_conninfo='host=127.0.0.1 port=" + primary.port + " user=postgres application_name=delayed_replica'",
    ].join(' ');
    try {
      run(path.join(bin, 'pg_ctl'), [
        '-D',
        replicaDir,
        '-l',
        path.join(root, 'replica.log'),
        '-o',
        options,
        '-w',
        '-t',
        '60',
        'start',
      ]);
    } catch (err: any) {
      const tail = fs.existsSync(path.join(root, 'replica.log'))
        ? fs.readFileSync(path.join(root, 'replica.log'), 'utf8').trim().split('\n').slice(-5).join(' | ')
        : '';
      replicaDir = '';
      throw new Error(`${err.message}: ${tail}`, { cause: err });
    }
    for (let i = 0; i < 400; i++) {
      const rows = await sql(
        primary.url,
        `SELECT 1 FROM pg_stat_replication WHERE application_name = 'delayed_replica' AND state = 'streaming'`,
      );
      if (rows.length) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the replica did not start streaming');
  }, 120_000);

  afterAll(async () => {
    try {
      if (replicaDir) run(path.join(bin, 'pg_ctl'), ['-D', replicaDir, '-m', 'immediate', '-w', 'stop']);
    } finally {
      if (root) fs.rmSync(root, { recursive: true, force: true });
      await primary?.stop();
    }
  });

  it('pauses while the replica is more than --max-lag behind and resumes once it has replayed, visibly', async () => {
    await sql(primary.url, 'CREATE DATABASE lag');
    const url = primary.urlFor('lag');
    await createCustomers(url, 10_000);
    const spec = splitSpec();
    await expand(spec, { databaseUrl: url });
    // --throttle-ms keeps the batches apart so lag is checked before each one.
    const cli = await runCli(
      ['backfill', SPLIT_SPEC_PATH, '--max-lag', '500ms', '--batch-size', '500', '--throttle-ms', '120'],
      { DATABASE_URL: url },
    );
    expect(cli.stderr).not.toMatch(/failed/);
    expect(cli.code).toBe(0);
    const lines = cli.stderr.split('\n');
    const paused = lines.findIndex((l) =>
      /backfill public\.customers paused: replica lag \d+\.\d s > 0\.5 s \(delayed_replica\)$/.test(l),
    );
    expect(paused).toBeGreaterThanOrEqual(0);
    const resumed = lines.findIndex(
      (l, i) => i > paused && /backfill public\.customers resumed after \d+\.\d s paused$/.test(l),
    );
    expect(resumed).toBeGreaterThan(paused);
    expect(cli.stdout).toMatch(/backfilled 10000 rows of public\.customers/);
    expect((await verify(spec, { databaseUrl: url })).ok).toBe(true);
  }, 120_000);

  it('pauses while the replica has more than --max-lag-bytes of WAL to replay', async () => {
    await sql(primary.url, 'CREATE DATABASE lagbytes');
    const url = primary.urlFor('lagbytes');
    await createCustomers(url, 3000);
    const spec = splitSpec();
    await expand(spec, { databaseUrl: url });
    const cli = await runCli(
      ['backfill', SPLIT_SPEC_PATH, '--max-lag-bytes', '1', '--batch-size', '1000', '--throttle-ms', '120'],
      { DATABASE_URL: url },
    );
    expect(cli.code).toBe(0);
    expect(cli.stderr).toMatch(
      /backfill public\.customers paused: replica lag \d+(\.\d)? (bytes|MB) > 1 bytes \(delayed_replica\)\n[\s\S]*resumed after \d+\.\d s paused/,
    );
    expect((await verify(spec, { databaseUrl: url })).ok).toBe(true);
  }, 120_000);
});
