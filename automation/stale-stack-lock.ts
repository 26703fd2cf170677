/**
 * The stack lock a killed `pulumi up` leaves in a local file backend. The file backend locks a
 * stack with one JSON file per holder under `.pulumi/locks/<org>/<project>/<stack>/`, naming the
 * pulumi CLI's pid and host, and never checks whether that process still runs: after a crash every
 * later update, refresh included, is refused as "locked". A lock is stale when its holder ran on
 * this host and is gone; only then does `--recover` remove it. A live holder, another host's, or
 * a lock it cannot read is left alone (the refusal stands, naming `pulumi cancel`).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { errorCode } from '../phases/error-fields';

interface LockContent {
  readonly pid?: unknown;
  readonly hostname?: unknown;
}

export type PidAlive = (pid: number) => boolean;

export const pidAlive: PidAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
};

/** The directory a file:// backend URL names, or undefined for any other backend. */
export function fileBackendDir(url: string | undefined): string | undefined {
  if (!url?.startsWith('file://')) return undefined;
  const rest = url.slice('file://'.length).replace(/\?.*$/, '');
  if (rest === '~' || rest.startsWith('~/')) return path.join(os.homedir(), rest.slice(1));
  return path.resolve(rest);
}

/** The lock files of this stack of this project (any organization) under a file backend's directory. */
function stackLockFiles(backendDir: string, projectName: string, stackName: string): string[] {
  const locks = path.join(backendDir, '.pulumi', 'locks');
  const stack = stackName.split('/').pop()!;
  const dirs: string[] = [];
  for (const org of fs.existsSync(locks) ? fs.readdirSync(locks) : [])
    dirs.push(path.join(locks, org, projectName, stack));
  dirs.push(path.join(locks, stack)); // the legacy layout, without organization and project
  return dirs
    .filter((d) => fs.existsSync(d) && fs.statSync(d).isDirectory())
    .flatMap((d) =>
      fs
        .readdirSync(d)
        .filter((f) => f.endsWith('.json'))
        .map((f) => path.join(d, f)),
    );
}

/**
 * The stack's lock files when every one of them is stale (its pulumi ran on this host and no
 * longer runs); an empty list when there is no lock or any holder may still be running.
 */
export function staleStackLocks(
  backendDir: string,
  projectName: string,
  stackName: string,
  alive: PidAlive = pidAlive,
  host = os.hostname(),
): string[] {
  const files = stackLockFiles(backendDir, projectName, stackName);
  const stale = files.filter((f) => {
    try {
      const c = JSON.parse(fs.readFileSync(f, 'utf8')) as LockContent;
      return c.hostname === host && typeof c.pid === 'number' && c.pid > 0 && !alive(c.pid);
    } catch {
      return false;
    }
  });
  return stale.length === files.length ? stale : [];
}
