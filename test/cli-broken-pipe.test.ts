import { spawn } from 'child_process';
import { expand } from '../executor';
import { freshDatabase } from './db';
import { TANDEM_BIN } from './cli-run';
import { createCustomers, splitSpec, SPLIT_SPEC_PATH } from './fixtures';

/**
 * `tandem status | head -1`: the reader of stdout goes away before the command writes. The command
 * ends quietly, no EPIPE stack trace, with its own exit code. The child's stdout pipe is closed
 * before it connects to PostgreSQL, so every write it makes meets a closed pipe: no race.
 */
function runWithClosedStdout(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TANDEM_BIN, ...args], { env: { PATH: process.env.PATH, ...env } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

describe('a broken pipe ends the command quietly', () => {
  let url: string;
  beforeAll(async () => {
    url = await freshDatabase('epipe');
    await createCustomers(url, 10);
    await expand(splitSpec(), { databaseUrl: url });
  });

  it.each([
    ['status (every migration)', ['status'], 0],
    ['status SPEC', ['status', SPLIT_SPEC_PATH], 0],
    ['verify SPEC (fails: not backfilled)', ['verify', SPLIT_SPEC_PATH], 1],
    ['verify SPEC --json', ['verify', SPLIT_SPEC_PATH, '--json'], 1],
  ])('%s | head -1: its own exit code, no stack trace', async (_label, args, code) => {
    const r = await runWithClosedStdout(args as string[], { DATABASE_URL: url });
    expect(r.stderr).not.toMatch(/EPIPE|Error:|\n\s+at /);
    expect(r.code).toBe(code);
  });
});
