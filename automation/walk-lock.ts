/**
 * One walker per stack on this machine: an exclusive lock file under the project's .tandem/,
 * created with O_EXCL and holding the walker's pid. A lock whose pid is no longer running (a
 * walker that was killed) is stale and taken over. Pulumi's own stack lock (ConcurrentUpdateError)
 * covers walkers on other machines sharing a backend; both end in the same StackBusyError.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { StackBusyError } from './walk-errors';
import { errorCode } from '../phases/error-fields';

export interface WalkLock {
  readonly path: string;
  release(): void;
}

interface LockRecord {
  readonly pid: number;
  readonly host: string;
  readonly stack: string;
  readonly startedAt: string;
}

export interface WalkLockOptions {
  readonly pid?: number;
  /** Whether a pid on this host is running (default: signal 0). */
  readonly isAlive?: (pid: number) => boolean;
}

function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

export function walkLockPath(projectDir: string, stack: string): string {
  return path.join(projectDir, '.tandem', `walk-${stack.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`);
}

function readRecord(file: string): LockRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockRecord;
  } catch {
    return undefined;
  }
}

export function acquireWalkLock(projectDir: string, stack: string, options: WalkLockOptions = {}): WalkLock {
  const file = walkLockPath(projectDir, stack);
  const pid = options.pid ?? process.pid;
  const isAlive = options.isAlive ?? pidIsAlive;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const record: LockRecord = { pid, host: os.hostname(), stack, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o644);
      fs.writeSync(fd, JSON.stringify(record));
      fs.closeSync(fd);
      let released = false;
      return {
        path: file,
        release() {
          if (released) return;
          released = true;
          const current = readRecord(file);
          if (current?.pid === pid) fs.rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
      const holder = readRecord(file);
      const stale = holder !== undefined && holder.host === os.hostname() && !isAlive(holder.pid);
      if (!stale) {
        throw new StackBusyError(
          stack,
          holder ? `walker pid ${holder.pid} on ${holder.host} since ${holder.startedAt}` : `lock file ${file}`,
        );
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new StackBusyError(stack, `lock file ${file}`);
}

/** Run fn holding the stack's walk lock under dir (no lock when dir is undefined). */
export async function withWalkLock<T>(dir: string | undefined, stack: string, fn: () => Promise<T>): Promise<T> {
  const lock = dir ? acquireWalkLock(dir, stack) : undefined;
  try {
    return await fn();
  } finally {
    lock?.release();
  }
}
