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
/** What the suite runs (the same list as .ci/run): the pulumi CLI and the kubernetes provider (the real engine), and the control plane. */
export const E2E_COMPONENTS = [
  'pulumi',
  'pulumi-resource-kubernetes',
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
  'rollouts-controller',
];

export default async function globalSetup(): Promise<void> {
  const g = globalThis as any;
  const t0 = Date.now();
  // build.sh prints one line per component (`cached X` or `built X in N s`); a cold build takes long.
  execFileSync('bash', [path.join(REPO, 'e2e', 'build.sh'), ...E2E_COMPONENTS], { stdio: 'inherit' });
  const buildSeconds = (Date.now() - t0) / 1000;
  const t1 = Date.now();
  const cluster = await startCluster({
    dir: process.env.TANDEM_E2E_CLUSTER_DIR ?? `/tmp/tandem-e2e-jest-${process.pid}`,
  });
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

    // The engine's PULUMI_HOME for this run: the kubernetes plugin from the toolchain, and the
    // command provider's stand-in installed as plugin command 1.2.1 (nothing shared is changed).
    const toolchain = path.dirname(cluster.bin);
    const pulumiHome = path.join(cluster.dir, 'pulumi-home');
    fs.mkdirSync(path.join(pulumiHome, 'plugins'), { recursive: true });
    const k8sPlugin = 'resource-kubernetes-v4.25.0';
    if (!fs.existsSync(path.join(pulumiHome, 'plugins', k8sPlugin)))
      fs.symlinkSync(
        path.join(toolchain, 'pulumi-home', 'plugins', k8sPlugin),
        path.join(pulumiHome, 'plugins', k8sPlugin),
      );
    execFileSync('npx', ['tsc', '-p', path.join(REPO, 'e2e', 'tsconfig.json')], { cwd: REPO, stdio: 'inherit' });
    execFileSync(
      path.join(REPO, 'e2e', 'command-provider', 'install.sh'),
      [pulumiHome, path.join(cluster.bin, 'pulumi')],
      { stdio: 'ignore' },
    );
    process.env.PULUMI_HOME = pulumiHome;
    const pulumiVersion = execFileSync(path.join(cluster.bin, 'pulumi'), ['version'], {
      encoding: 'utf8',
      env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: '1' },
    }).trim();
    const apiserver = execFileSync(path.join(cluster.bin, 'kube-apiserver'), ['--version'], {
      encoding: 'utf8',
    }).trim();
    const rollouts = execFileSync(path.join(cluster.bin, 'rollouts-controller'), ['--version'], {
      encoding: 'utf8',
    }).trim();
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    const postgres = (await client.query('SELECT version() AS v')).rows[0].v as string;
    await client.end();
    const lines = [
      `e2e: pulumi ${pulumiVersion}, kubernetes provider 4.25.0 (built from Go modules)`,
      "e2e: the command provider is a stand-in: e2e/command-provider/ (TypeScript) reproducing pulumi-command v1.2.1's command:local:Command, installed as plugin command 1.2.1, because the Go module proxy serves no version of pulumi-command",
      `e2e: kube-apiserver ${apiserver}`,
      `e2e: argo-rollouts (rollouts-controller) ${rollouts}`,
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
