/** Is a `pulumi` CLI on PATH? Checked up front, so a missing CLI is one sentence, not a spawn ENOENT. */
import * as fs from 'fs';
import * as path from 'path';

export function findPulumi(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const names = process.platform === 'win32' ? ['pulumi.exe', 'pulumi.cmd'] : ['pulumi'];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const name of names) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}
