import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';

export interface ChildBackfill {
  readonly rowsUpdated: number;
  readonly batches: number;
  /** The executor's own timing of the walk, s. */
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly lockRetries: number;
  /** Wall time of the whole process, s (Node start-up included). */
  readonly processSeconds: number;
  /** VmHWM of the backfill process: its peak resident set, MB. */
  readonly peakRssMb: number;
  /** Median and longest batch statement, ms: how long each batch holds its row locks. */
  readonly medianBatchMs: number;
  readonly longestBatchMs: number;
}

export const TANDEM_BIN = path.join(__dirname, '..', '..', 'bin', 'tandem.js');

function readHwmKb(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // the process has exited
  }
}

/**
 * Run `tandem backfill` as its own process, as a pipeline would, sampling its peak resident set
 * (VmHWM, a high-water mark, so the last sample before exit is the peak) every 20 ms.
 */
export function runBackfillProcess(
  specPath: string,
  databaseUrl: string,
  extraArgs: string[] = [],
): Promise<ChildBackfill> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [TANDEM_BIN, 'backfill', specPath, '--database-url', databaseUrl, '--json', ...extraArgs],
      {
        env: { PATH: process.env.PATH, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let hwmKb = 0;
    const sample = () => {
      const kb = child.pid === undefined ? undefined : readHwmKb(child.pid);
      if (kb !== undefined) hwmKb = Math.max(hwmKb, kb);
    };
    const timer = setInterval(sample, 20);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearInterval(timer);
      const processSeconds = (performance.now() - started) / 1000;
      if (code !== 0)
        return reject(new Error(`tandem backfill exited ${code}: ${stderr.trim().split('\n').slice(-2).join(' ')}`));
      const lines = stdout.trim().split('\n');
      const r = JSON.parse(lines[lines.length - 1]);
      resolve({
        rowsUpdated: r.rowsUpdated,
        batches: r.batches,
        seconds: r.seconds,
        rowsPerSecond: r.rowsPerSecond,
        lockRetries: r.lockRetries,
        processSeconds,
        peakRssMb: Math.round((hwmKb / 1024) * 10) / 10,
        medianBatchMs: r.medianBatchMs ?? NaN,
        longestBatchMs: r.longestBatchMs ?? NaN,
      });
    });
  });
}
