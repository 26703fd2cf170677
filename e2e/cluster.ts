/**
 * The e2e control plane from Node (a jest globalSetup, a test's beforeAll): a thin wrapper over
 * e2e/cluster.sh, which does the work and stays usable from a shell.
 *
 *   const cluster = await startCluster();          // or startCluster({ dir })
 *   process.env.KUBECONFIG = cluster.kubeconfig;
 *   ...
 *   await cluster.stop();
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface Cluster {
  dir: string;
  kubeconfig: string;
  /** Directory with kubectl, pulumi and the other binaries. */
  bin: string;
  apiserver: string;
  /** The lines cluster.sh printed, as an environment to merge into a child's env. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

function script(): string {
  // Run from e2e/cluster.ts (ts-jest), or compiled to dist/e2e/cluster.js.
  const beside = path.join(__dirname, 'cluster.sh');
  return fs.existsSync(beside) ? beside : path.join(__dirname, '..', '..', 'e2e', 'cluster.sh');
}

function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('bash', [script(), ...args], { env, timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`cluster.sh ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

export async function stopCluster(dir?: string, timeoutMs = 60_000): Promise<void> {
  await run(['stop', ...(dir ? ['--dir', dir] : [])], process.env, timeoutMs);
}

export async function startCluster(
  opts: { dir?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<Cluster> {
  const out = await run(
    ['start', ...(opts.dir ? ['--dir', opts.dir] : [])],
    { ...process.env, ...opts.env },
    opts.timeoutMs ?? 300_000,
  );
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  const dir = env.TANDEM_E2E_CLUSTER_DIR;
  return {
    dir,
    kubeconfig: env.KUBECONFIG,
    bin: env.TANDEM_E2E_BIN,
    apiserver: env.TANDEM_E2E_APISERVER,
    env,
    stop: () => stopCluster(dir),
  };
}
