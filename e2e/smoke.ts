/**
 * Smoke check of the e2e control plane (run by e2e/smoke.sh against a started cluster; KUBECONFIG
 * and TANDEM_E2E_BIN from `e2e/cluster.sh start`):
 *   1. an Argo Rollout (canary, 1 replica, an image that need not exist: kwok fakes its pod) is
 *      reported Healthy by the real rollouts-controller;
 *   2. a Job `sh -c 'exit 3'` run by the job runner ends Failed with exit code 3, and one reading
 *      a Secret through secretKeyRef ends Complete, and so does one whose command is a Node
 *      script put on PATH by commandShims (as `tandem` will be);
 *   3. an AnalysisRun with a Job metric whose command fails ends Failed, one that succeeds ends
 *      Successful (AnalysisRun -> Job -> pod -> job runner -> pod status -> Job -> AnalysisRun).
 * Prints one line per check with its time, and exits non-zero on the first failure.
 */
import { execFileSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import * as fs from 'fs';
import { kubeClientFromKubeconfig } from './kube';
import { commandShims, startJobRunner } from './job-runner';
import { until } from './until';

const BIN = process.env.TANDEM_E2E_BIN ?? '';
const kubeconfig = process.env.KUBECONFIG ?? '';
if (!BIN || !kubeconfig) {
  console.error('smoke: set KUBECONFIG and TANDEM_E2E_BIN (eval "$(e2e/cluster.sh env)")');
  process.exit(2);
}
const kube = kubeClientFromKubeconfig(kubeconfig);
const NS = 'tandem-smoke';

function kubectl(args: string[], input?: string): string {
  return execFileSync(path.join(BIN, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], { input, encoding: 'utf8' });
}

async function check(name: string, f: () => Promise<string>): Promise<void> {
  const t0 = Date.now();
  const detail = await f();
  console.log(`ok ${name} in ${((Date.now() - t0) / 1000).toFixed(1)} s${detail ? ` (${detail})` : ''}`);
}

const job = (name: string, script: string, extra = '') => `
apiVersion: batch/v1
kind: Job
metadata: { name: ${name}, namespace: ${NS} }
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: registry.invalid/none:1
        command: [sh, -c, ${JSON.stringify(script)}]
${extra}`;

const analysis = (name: string, script: string) => `
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata: { name: ${name}, namespace: ${NS} }
spec:
  metrics:
  - name: verify
    provider:
      job:
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: verify
                image: registry.invalid/tandem:1
                command: [sh, -c, ${JSON.stringify(script)}]
`;

async function main(): Promise<void> {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-smoke-'));
  kubectl(['create', 'namespace', NS]);
  await until('the default service account', 60_000, () =>
    kube.request('GET', `/api/v1/namespaces/${NS}/serviceaccounts/default`),
  );
  // A Node script run as the command `check-spec` (as the e2e suite runs bin/tandem.js as `tandem`).
  fs.writeFileSync(
    path.join(logDir, 'check-spec.js'),
    "const t = require('fs').readFileSync(process.argv[2], 'utf8'); console.log('spec:', t.trim()); process.exit(t.trim() === 'ok' ? 0 : 4);\n",
  );
  const shims = commandShims(path.join(logDir, 'shims'), { 'check-spec': path.join(logDir, 'check-spec.js') });
  const runner = startJobRunner({ kubeconfig, logDir, pathMap: { '/host-spec/': `${logDir}/` }, path: [shims] });
  try {
    await check('rollout Healthy', async () => {
      kubectl(
        ['apply', '-f', '-'],
        `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: { name: smoke, namespace: ${NS} }
spec:
  replicas: 1
  selector: { matchLabels: { app: smoke } }
  template:
    metadata: { labels: { app: smoke } }
    spec:
      containers:
      - { name: app, image: "registry.invalid/smoke:v1" }
  strategy:
    canary:
      steps:
      - setWeight: 50
      - pause: {}
`,
      );
      const ro = await until('Rollout smoke Healthy', 120_000, async () => {
        const r = await kube.request<any>('GET', `/apis/argoproj.io/v1alpha1/namespaces/${NS}/rollouts/smoke`);
        return r.status?.phase === 'Healthy' ? r : undefined;
      });
      return `phase ${ro.status.phase}, ${ro.status.availableReplicas}/${ro.spec.replicas} available`;
    });

    await check('job exit 3 Failed', async () => {
      kubectl(['apply', '-f', '-'], job('exit-3', 'exit 3'));
      const j = await until('Job exit-3 Failed', 120_000, async () => {
        const j = await kube.request<any>('GET', `/apis/batch/v1/namespaces/${NS}/jobs/exit-3`);
        return (j.status?.conditions ?? []).some((c: any) => c.type === 'Failed' && c.status === 'True')
          ? j
          : undefined;
      });
      const run = await runner.waitForJob('exit-3', NS, 10_000);
      if (run.containers[0]?.exitCode !== 3) throw new Error(`exit code ${run.containers[0]?.exitCode}, want 3`);
      const pods = await kube.request<any>(
        'GET',
        `/api/v1/namespaces/${NS}/pods?labelSelector=batch.kubernetes.io/job-name%3Dexit-3`,
      );
      const code = pods.items[0]?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
      if (code !== 3) throw new Error(`pod status exit code ${code}, want 3`);
      return `pod Failed, exitCode ${code}, job failed=${j.status.failed}`;
    });

    await check('job with secretKeyRef env Complete', async () => {
      kubectl([
        'create',
        'secret',
        'generic',
        'smoke-db',
        '-n',
        NS,
        '--from-literal=url=postgres://smoke@127.0.0.1/db',
      ]);
      fs.writeFileSync(path.join(logDir, 'spec.yaml'), 'ok\n');
      kubectl(
        ['apply', '-f', '-'],
        job(
          'env-ok',
          'test "$DATABASE_URL" = postgres://smoke@127.0.0.1/db && test "$MODE" = verify && grep -q ok /host-spec/spec.yaml',
          `        env:
        - { name: MODE, value: verify }
        - name: DATABASE_URL
          valueFrom: { secretKeyRef: { name: smoke-db, key: url } }`,
        ),
      );
      await until('Job env-ok Complete', 120_000, async () => {
        const j = await kube.request<any>('GET', `/apis/batch/v1/namespaces/${NS}/jobs/env-ok`);
        if ((j.status?.conditions ?? []).some((c: any) => c.type === 'Failed' && c.status === 'True'))
          throw new Error('Job env-ok failed');
        return (j.status?.conditions ?? []).some((c: any) => c.type === 'Complete' && c.status === 'True')
          ? j
          : undefined;
      });
      return 'secret read, /host-spec/ mapped by pathMap';
    });

    await check('job with a ConfigMap volume through a command shim Complete', async () => {
      // As Tandem's verify Job: the spec comes from a ConfigMap volume mounted at /spec.
      kubectl(['create', 'configmap', 'smoke-spec', '-n', NS, '--from-literal=spec.yaml=ok']);
      kubectl(
        ['apply', '-f', '-'],
        job(
          'shim-ok',
          'unused',
          `        volumeMounts: [{ name: spec, mountPath: /spec, readOnly: true }]
      volumes: [{ name: spec, configMap: { name: smoke-spec } }]`,
        ).replace('command: [sh, -c, "unused"]', 'command: [check-spec]\n        args: [/spec/spec.yaml]'),
      );
      await until('Job shim-ok Complete', 120_000, async () => {
        const j = await kube.request<any>('GET', `/apis/batch/v1/namespaces/${NS}/jobs/shim-ok`);
        if ((j.status?.conditions ?? []).some((c: any) => c.type === 'Failed' && c.status === 'True'))
          throw new Error('Job shim-ok failed');
        return (j.status?.conditions ?? []).some((c: any) => c.type === 'Complete' && c.status === 'True')
          ? j
          : undefined;
      });
      const run = await runner.waitForJob('shim-ok', NS, 10_000);
      return `ran ${run.containers[0].argv.join(' ')}: ${run.containers[0].output.trim()}`;
    });

    for (const [name, script, want] of [
      ['verify-fails', 'echo verify: 1 row lost >&2; exit 3', 'Failed'],
      ['verify-passes', 'echo verify: ok', 'Successful'],
    ] as const) {
      await check(`analysisrun ${want}`, async () => {
        kubectl(['apply', '-f', '-'], analysis(name, script));
        const ar = await until(`AnalysisRun ${name} finished`, 180_000, async () => {
          const a = await kube.request<any>('GET', `/apis/argoproj.io/v1alpha1/namespaces/${NS}/analysisruns/${name}`);
          return ['Successful', 'Failed', 'Error', 'Inconclusive'].includes(a.status?.phase) ? a : undefined;
        });
        if (ar.status.phase !== want)
          throw new Error(`AnalysisRun ${name} is ${ar.status.phase}, want ${want}: ${JSON.stringify(ar.status)}`);
        return `phase ${ar.status.phase}`;
      });
    }
  } finally {
    await runner.stop();
    kubectl(['delete', 'namespace', NS, '--wait=false']);
    fs.rmSync(logDir, { recursive: true, force: true });
  }
}

main().then(
  () => console.log('smoke: all checks passed'),
  (e) => {
    console.error(`smoke: FAILED: ${e?.message ?? e}`);
    process.exit(1);
  },
);
