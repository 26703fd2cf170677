import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { acquireWalkLock, walkLockPath } from '../automation/walk-lock';
import { StackBusyError } from '../automation/walk-errors';

describe('walk lock: one walker per stack', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-lock-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates the lock under .tandem/ with the holder pid, and removes it on release', () => {
    const lock = acquireWalkLock(dir, 'org/proj/dev');
    expect(lock.path).toBe(path.join(dir, '.tandem', 'walk-org_proj_dev.lock'));
    expect(JSON.parse(fs.readFileSync(lock.path, 'utf8'))).toMatchObject({
      pid: process.pid,
      host: os.hostname(),
      stack: 'org/proj/dev',
    });
    lock.release();
    expect(fs.existsSync(lock.path)).toBe(false);
  });

  it('refuses a second lock on the same stack while the holder runs, but not another stack', () => {
    const first = acquireWalkLock(dir, 'dev');
    expect(() => acquireWalkLock(dir, 'dev', { pid: process.pid + 1 })).toThrow(StackBusyError);
    const other = acquireWalkLock(dir, 'prod');
    other.release();
    first.release();
  });

  it('takes over a stale lock whose walker is no longer running', () => {
    const stale = acquireWalkLock(dir, 'dev', { pid: 999999 });
    const lock = acquireWalkLock(dir, 'dev', { isAlive: (pid) => pid !== 999999 });
    expect(JSON.parse(fs.readFileSync(lock.path, 'utf8')).pid).toBe(process.pid);
    stale.release(); // the stale holder's release must not remove the new holder's lock
    expect(fs.existsSync(walkLockPath(dir, 'dev'))).toBe(true);
    lock.release();
  });

  it('a lock file it cannot read counts as held', () => {
    fs.mkdirSync(path.join(dir, '.tandem'));
    fs.writeFileSync(walkLockPath(dir, 'dev'), '');
    expect(() => acquireWalkLock(dir, 'dev', { isAlive: () => false })).toThrow(/lock file/);
  });
});
