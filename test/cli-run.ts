import { spawn } from 'child_process';
import * as path from 'path';
import { Writable } from 'stream';
import { main } from '../cli/main';
import { createOutput } from '../cli/output';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that keeps what is written; `isTTY` makes it look like a terminal. */
export class Capture extends Writable {
  text = '';
  constructor(readonly isTTY = false) {
    super();
  }
  _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

/** Run `tandem ...` in-process, as a pipeline would see it (not a terminal). */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const out = new Capture();
  const err = new Capture();
  const code = await main(args, createOutput(out as any, err as any, env), env);
  return { code, stdout: out.text, stderr: err.text };
}

export const TANDEM_BIN = path.join(__dirname, '..', 'bin', 'tandem.js');

/** Run the built CLI as a real process (npm test builds dist/ first, in pretest). */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TANDEM_BIN, ...args], { env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
