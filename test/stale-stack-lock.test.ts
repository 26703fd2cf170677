import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fileBackendDir, staleStackLocks } from '../automation/stale-stack-lock';

describe("a file backend's stack lock left by a killed pulumi", () => {
  let dir: string;
  const lockDir = (org = 'organization', project = 'tandem', stack = 'dev') =>
    path.join(dir, '.pulumi', 'locks', org, project, stack);
  const writeLock = (name: string, content: object, d = lockDir()) => {
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, name), JSON.stringify(content));
    return path.join(d, name);
  };
  const deadPid = 999999;
  const alive = (pid: number) => pid !== deadPid;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-stale-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is stale when its pulumi ran on this host and no longer runs: that stack's only", () => {
    const stale = writeLock('a.json', {
      pid: deadPid,
      hostname: os.hostname(),
      username: 'u',
      timestamp: '2026-01-01T00:00:00Z',
    });
    writeLock('b.json', { pid: deadPid, hostname: os.hostname() }, lockDir('organization', 'tandem', 'prod'));
    writeLock('c.json', { pid: deadPid, hostname: os.hostname() }, lockDir('organization', 'other', 'dev'));
    expect(staleStackLocks(dir, 'tandem', 'dev', alive)).toEqual([stale]);
    expect(staleStackLocks(dir, 'tandem', 'organization/tandem/dev', alive)).toEqual([stale]);
  });

  it("is left alone while its holder runs, when it is another host's, or unreadable, and then no lock of the stack counts as stale", () => {
    writeLock('a.json', { pid: deadPid, hostname: os.hostname() });
    const live = writeLock('b.json', { pid: process.pid, hostname: os.hostname() });
    expect(staleStackLocks(dir, 'tandem', 'dev', alive)).toEqual([]);
    fs.rmSync(live);
    writeLock('c.json', { pid: deadPid, hostname: `not-${os.hostname()}` });
    expect(staleStackLocks(dir, 'tandem', 'dev', alive)).toEqual([]);
    fs.rmSync(path.join(lockDir(), 'c.json'));
    fs.writeFileSync(path.join(lockDir(), 'd.json'), '{not json');
    expect(staleStackLocks(dir, 'tandem', 'dev', alive)).toEqual([]);
  });

  it('no lock, no stale lock; only a file:// backend has a directory to look in', () => {
    expect(staleStackLocks(dir, 'tandem', 'dev', alive)).toEqual([]);
    expect(fileBackendDir('file:///var/state')).toBe('/var/state');
    expect(fileBackendDir('file://~/state')).toBe(path.join(os.homedir(), 'state'));
    expect(fileBackendDir('s3://bucket')).toBeUndefined();
    expect(fileBackendDir(undefined)).toBeUndefined();
  });
});
