/**
 * Global setup of the end-to-end suite: builds (or reuses) the toolchain with e2e/build.sh,
 * starts the loopback control plane (etcd, kube-apiserver, controller manager, scheduler, kwok,
 * rollouts-controller) and one throwaway PostgreSQL, and prints what it runs. Whatever it
 * started is stopped again if a later step fails; global-teardown.ts stops it after the run.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Client } from 'pg';
import { startScratchPostgres } from '../../rehearsal/scratch-postgres';
import { startCluster } from '../cluster';

const REPO = path.resolve(__dirname, '..', '..');
/** What the suite runs (the same list as .ci/run): the control plane; the pulumi CLI and plugins are not needed without an engine run. */
export const E2E_COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kwok', 'rollouts-controller'];

export default async function globalSetup(): Promise<void> {
  const g = globalThis as any;
  const t0 = Date.now();
  // build.sh prints one line per component (`cached X` or `built X in N s`); a cold build takes long.
  execFileSync('bash', [path.join(REPO, 'e2e', 'build.sh'), ...E2E_COMPONENTS], { stdio: 'inherit' });
  const buildSeconds = (Date.now() - t0) / 1000;
  const t1 = Date.now();
  const cluster = await startCluster({ dir: process.env.TANDEM_E2E_CLUSTER_DIR ?? `/tmp/tandem-e2e-jest-${process.pid}` });
  g.__TANDEM_E2E_CLUSTER__ = cluster;
  const clusterSeconds = (Date.now() - t1) / 1000;
  try {
    const t2 = Date.now();
    const pg = await startScratchPostgres();
    g.__TANDEM_E2E_PG__ = pg;
    const pgSeconds = (Date.now() - t2) / 1000;
    process.env.TANDEM_TEST_PG_URL = pg.url;
    process.env.KUBECONFIG = cluster.kubeconfig;
    process.env.TANDEM_E2E_BIN = cluster.bin;
    process.env.TANDEM_E2E_CLUSTER_DIR = cluster.dir;

    const apiserver = execFileSync(path.join(cluster.bin, 'kube-apiserver'), ['--version'], { encoding: 'utf8' }).trim();
    const rollouts = execFileSync(path.join(cluster.bin, 'rollouts-controller'), ['--version'], { encoding: 'utf8' }).trim();
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    const postgres = (await client.query('SELECT version() AS v')).rows[0].v as string;
    await client.end();
    const lines = [
      `e2e: kube-apiserver ${apiserver}`,
      `e2e: rollouts-controller ${rollouts}`,
      `e2e: ${postgres.split(' on ')[0]}`,
      `e2e: toolchain check ${buildSeconds.toFixed(1)} s, cluster start-up ${clusterSeconds.toFixed(1)} s, PostgreSQL start-up ${pgSeconds.toFixed(1)} s`,
    ];
    process.stdout.write('\n' + lines.join('\n') + '\n');
    fs.writeFileSync(path.join(cluster.dir, 'e2e-versions.txt'), lines.join('\n') + '\n');
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Stops what the setup started (PostgreSQL, then the cluster); each at most once. */
export async function stopAll(): Promise<void> {
  const g = globalThis as any;
  const pg = g.__TANDEM_E2E_PG__;
  const cluster = g.__TANDEM_E2E_CLUSTER__;
  g.__TANDEM_E2E_PG__ = g.__TANDEM_E2E_CLUSTER__ = undefined;
  const errors: unknown[] = [];
  if (pg) await pg.stop().catch((e: unknown) => errors.push(e));
  if (cluster) await cluster.stop().catch((e: unknown) => errors.push(e));
  if (errors.length) throw errors[0];
}
