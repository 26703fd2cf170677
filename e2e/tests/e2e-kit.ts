/**
 * What the end-to-end tests share: the objects of one stage exactly as Tandem's pure builders
 * render them (the same arguments components/app-rollout.ts passes), applied server-side to the
 * real API server; a job runner that executes the verify Job's `tandem verify` on the host; the
 * walker's readers; a database with the demo table and the app role.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Pool } from 'pg';
import { createStore } from '../../app/versions';
import { CustomerStore } from '../../app/customer-store';
import { createGates, Gates } from '../../automation/gates';
import { RolloutReader } from '../../automation/rollout-reader';
import { CanaryStep } from '../../phases/deploy/canary-steps';
import { RolloutObject } from '../../phases/deploy/rollout-health';
import {
  buildAnalysisTemplate,
  buildRollout,
  buildService,
  DATABASE_URL_KEY,
  rolloutNames,
} from '../../phases/deploy/rollout-spec';
import { planStackState } from '../../phases/deploy/stack-state';
import { AppVersion, Stage } from '../../phases/deploy/stages';
import { createAppRole, customersTableSql, seedCustomers, urlAs } from '../../rehearsal/demo-database';
import { britishNames } from '../../rehearsal/british-names';
import { freshDatabase } from '../../test/db';
import { FakeStackDriver } from '../../test/fake-stack-driver';
import { commandShims, JobRunner, startJobRunner } from '../job-runner';
import { KubeClient, KubeError, kubeClientFromKubeconfig } from '../kube';
import { until } from '../until';

export { until };

export const REPO = path.resolve(__dirname, '..', '..');
export const SPEC_FILE = 'split-full-name.yaml';
export const SPEC_PATH = path.join(REPO, 'migrations', SPEC_FILE);
const ARGO = '/apis/argoproj.io/v1alpha1';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function kube(): KubeClient {
  return kubeClientFromKubeconfig(process.env.KUBECONFIG);
}

const PLURAL: Record<string, string> = {
  Rollout: 'rollouts',
  AnalysisTemplate: 'analysistemplates',
  Service: 'services',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
};

/** Server-side apply (what `kubectl apply --server-side` and pulumi-kubernetes do). */
export async function apply(k: KubeClient, obj: Record<string, any>): Promise<any> {
  const base = obj.apiVersion === 'v1' ? '/api/v1' : `/apis/${obj.apiVersion}`;
  const url = `${base}/namespaces/${obj.metadata.namespace}/${PLURAL[obj.kind]}/${obj.metadata.name}?fieldManager=tandem-e2e&force=true`;
  return k.request('PATCH', url, obj, 'application/apply-patch+yaml');
}

export async function createNamespace(k: KubeClient, name: string): Promise<void> {
  try {
    await k.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  } catch (e) {
    if (!(e instanceof KubeError && e.code === 409)) throw e;
  }
  await until(`the default service account in ${name}`, 120_000, () =>
    k.request('GET', `/api/v1/namespaces/${name}/serviceaccounts/default`),
  );
}

export interface AppSide {
  readonly app: string;
  readonly namespace: string;
  readonly steps: readonly CanaryStep[];
  /** The connection URL of the verify Job (the migrator's database here). */
  readonly verifyDatabaseUrl: string;
  readonly appDatabaseUrl: string;
  readonly replicas?: number;
}

export const IMAGE = 'registry.invalid/tandem-demo';

/** The Rollout of a stage, built as AppRollout builds it. */
export function rolloutOf(side: AppSide, stage: Stage): Record<string, any> {
  const state = planStackState(stage);
  return buildRollout({
    app: side.app,
    namespace: side.namespace,
    image: IMAGE,
    imageTag: state.app.imageTag,
    appVersion: state.app.version,
    replicas: side.replicas ?? 2,
    containerPort: 8080,
    steps: side.steps,
  });
}

/** Every object of the app side of a stage (Secrets, ConfigMap, Services, AnalysisTemplate, Rollout), applied in AppRollout's order. */
export async function applyStage(k: KubeClient, side: AppSide, stage: Stage): Promise<Record<string, any>> {
  const names = rolloutNames(side.app);
  const secret = (name: string, url: string) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: side.namespace },
    type: 'Opaque',
    stringData: { [DATABASE_URL_KEY]: url },
  });
  await apply(k, secret(names.appSecret, side.appDatabaseUrl));
  await apply(k, secret(names.verifySecret, side.verifyDatabaseUrl));
  await apply(k, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: names.specConfigMap, namespace: side.namespace },
    data: { [SPEC_FILE]: fs.readFileSync(SPEC_PATH, 'utf8') },
  });
  await apply(k, buildService(side.app, side.namespace, 'stable'));
  await apply(k, buildService(side.app, side.namespace, 'canary'));
  await apply(
    k,
    buildAnalysisTemplate({
      app: side.app,
      namespace: side.namespace,
      verifyImage: 'registry.invalid/tandem:e2e',
      specFile: SPEC_FILE,
    }),
  );
  return apply(k, rolloutOf(side, stage));
}

export async function getRollout(k: KubeClient, side: { app: string; namespace: string }): Promise<any> {
  return k.request('GET', `${ARGO}/namespaces/${side.namespace}/rollouts/${rolloutNames(side.app).rollout}`);
}

export async function analysisRuns(k: KubeClient, namespace: string): Promise<any[]> {
  return (await k.request<any>('GET', `${ARGO}/namespaces/${namespace}/analysisruns`)).items ?? [];
}

/**
 * The canary weight the Rollout's status shows: the last setWeight step the controller has passed
 * (status.currentStepIndex), 100 once every step is done. Without traffic routing this is what
 * Argo scales the canary ReplicaSet to.
 */
export function canaryWeight(ro: any): number {
  const steps: any[] = ro.spec?.strategy?.canary?.steps ?? [];
  const index: number = ro.status?.currentStepIndex ?? 0;
  if (index >= steps.length) return 100;
  let w = 0;
  for (let i = 0; i < index; i++) if (typeof steps[i].setWeight === 'number') w = steps[i].setWeight;
  return w;
}

/**
 * readRolloutFromCluster, run as the walker runs it: in a Node process of its own (it loads
 * @kubernetes/client-node, an ES module, with a real dynamic import, which jest's module sandbox
 * cannot do), with KUBECONFIG pointing at the test cluster. The compiled dist/ is what runs.
 */
export const readRolloutInNode: RolloutReader = (name, namespace) =>
  new Promise((resolve, reject) => {
    const script =
      'require(process.argv[1]).readRolloutFromCluster(process.argv[2], process.argv[3])' +
      '.then((r) => process.stdout.write(JSON.stringify(r ?? null)), (e) => { process.stderr.write(String(e && e.message || e)); process.exit(1); })';
    execFile(
      process.execPath,
      ['-e', script, path.join(REPO, 'dist', 'automation', 'rollout-reader.js'), name, namespace],
      { env: { ...process.env, KUBECONFIG: process.env.KUBECONFIG }, timeout: 60_000 },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`readRolloutFromCluster: ${stderr || err.message}`))
          : resolve((JSON.parse(stdout) ?? undefined) as RolloutObject | undefined),
    );
  });

/** The walker's gates on a stack at `stage` (a fake driver: no engine), reading the real cluster and the real database. */
export function gatesFor(
  side: AppSide,
  stage: Stage,
  databaseUrl: string,
  onProgress?: (t: string) => void,
  waitSeconds = 300,
): Gates {
  const driver = new FakeStackDriver({
    stage,
    config: {
      'tandem:spec': `migrations/${SPEC_FILE}`,
      'tandem:databaseUrl': databaseUrl,
      'tandem:appName': side.app,
      'tandem:namespace': side.namespace,
    },
    outputs: { rollout: { name: rolloutNames(side.app).rollout, namespace: side.namespace } },
  });
  return createGates({
    driver,
    projectDir: REPO,
    readRollout: readRolloutInNode,
    waitSeconds,
    pollSeconds: 1,
    onProgress,
  });
}

/**
 * The job runner of the AnalysisRuns' verify Jobs: `tandem verify /spec/...` runs as the repo's
 * CLI on the repo's specs, or as `cli` on the specs in `specDir` (a team's installed package).
 */
export function verifyRunner(
  specDir = path.join(REPO, 'migrations'),
  cli = path.join(REPO, 'bin', 'tandem.js'),
): { runner: JobRunner; logDir: string } {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-jobs-'));
  const shims = commandShims(path.join(logDir, 'shims'), { tandem: cli });
  const runner = startJobRunner({
    onlyAnalysisRuns: true,
    pathMap: { '/spec/': `${specDir}/` },
    path: [shims],
    logDir,
    timeoutMs: 5 * 60_000,
  });
  return { runner, logDir };
}

export interface DemoDatabase {
  readonly url: string;
  readonly appUrl: string;
  readonly admin: Pool;
  readonly seeded: { id: string; name: string }[];
  readonly stores: Record<AppVersion, CustomerStore>;
  close(): Promise<void>;
}

/** A fresh database with the talk's customers table, seeded, and the app's DML-only role. */
export async function demoDatabase(prefix: string, rows = 2000): Promise<DemoDatabase> {
  const url = await freshDatabase(prefix);
  const admin = new Pool({ connectionString: url, max: 4 });
  admin.on('error', () => undefined);
  await admin.query(customersTableSql('customers'));
  const seeded = await seedCustomers(admin, rows, britishNames(7), 'customers');
  const role = await createAppRole(admin, `${prefix}_app_${process.pid}_${Date.now().toString(36)}`, 'customers');
  const appUrl = urlAs(url, role);
  const pools: Pool[] = [];
  const open = (v: AppVersion) => {
    const p = new Pool({ connectionString: appUrl, max: 6 });
    p.on('error', () => undefined);
    pools.push(p);
    return createStore(v, p);
  };
  return {
    url,
    appUrl,
    admin,
    seeded,
    stores: { v1: open('v1'), v2: open('v2'), v3: open('v3') },
    async close() {
      await Promise.all([admin, ...pools].map((p) => p.end().catch(() => undefined)));
    },
  };
}
