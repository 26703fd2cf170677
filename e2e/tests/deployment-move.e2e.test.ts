/**
 * Moving a team's existing Deployment under Tandem without downtime (docs/component-guide.md,
 * "Moving an existing Deployment"), on the loopback cluster with the real Argo Rollouts controller:
 * the Deployment serves; its template gets Tandem's additions (tandemPodTemplate: the release's
 * image, the database env var, the labels) and rolls by its own strategy; then the Rollout built by
 * buildRolloutFromWorkload (what AppRollout applies for `workloadRef`) takes over, and Argo scales
 * the Deployment down, `progressively` or `onsuccess`. Throughout, every 100 ms, the pods the
 * team's own Service selects are counted: Ready and not terminating (what its endpoints serve).
 */
import { buildAnalysisTemplate, buildService, DATABASE_URL_KEY, rolloutNames } from '../../phases/deploy/rollout-spec';
import { buildRolloutFromWorkload, ScaleDown, tandemPodTemplate } from '../../phases/deploy/rollout-template';
import { evaluateRollout, RolloutObject } from '../../phases/deploy/rollout-health';
import { parseRelease } from '../../phases/deploy/releases';
import { KubeClient } from '../kube';
import { apply, createNamespace, getRollout, kube, sleep, until } from './e2e-kit';

const NS = 'e2e-move';
const REPLICAS = 4;
const IMAGE = 'ghcr.io/acme/legacy:1.0.0';

let k: KubeClient;

beforeAll(async () => {
  k = kube();
  await createNamespace(k, NS);
});

/** The team's Deployment as it ran before Tandem: its own labels, one container, a surge-only rolling update. */
function teamDeployment(app: string, template: Record<string, any>) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app, namespace: NS },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { 'team-app': app } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template,
    },
  };
}

const teamTemplate = (app: string) => ({
  metadata: { labels: { 'team-app': app } },
  spec: { containers: [{ name: 'web', image: IMAGE, ports: [{ name: 'http', containerPort: 8080 }] }] },
});

/** Pods the team's Service (selector team-app) sends traffic to: Ready and not terminating. */
async function inService(app: string): Promise<number> {
  const pods = await k.request<any>('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=team-app%3D${app}`);
  return (pods.items ?? []).filter(
    (p: any) =>
      !p.metadata.deletionTimestamp &&
      (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
  ).length;
}

/** Counts the pods in service every 100 ms until stopped: the smallest and largest count seen, and how many samples. */
function watchInService(app: string) {
  let stopped = false;
  let min = Infinity;
  let max = 0;
  let samples = 0;
  const loop = (async () => {
    while (!stopped) {
      const n = await inService(app);
      min = Math.min(min, n);
      max = Math.max(max, n);
      samples++;
      await sleep(100);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { min, max, samples };
    },
  };
}

async function deployment(app: string): Promise<any> {
  return k.request('GET', `/apis/apps/v1/namespaces/${NS}/deployments/${app}`);
}

async function deploymentSettled(app: string, generation?: number): Promise<any> {
  return until(`Deployment ${app} rolled out`, 120_000, async () => {
    const d = await deployment(app);
    const s = d.status ?? {};
    const done =
      s.observedGeneration >= (generation ?? d.metadata.generation) &&
      s.updatedReplicas === REPLICAS &&
      s.availableReplicas === REPLICAS &&
      (s.replicas ?? 0) === REPLICAS;
    return done ? d : undefined;
  });
}

test.each<ScaleDown>(['progressively', 'onsuccess'])(
  'an existing Deployment moves under a Rollout (workloadRef, scaleDown %s) with every replica in service throughout',
  async (scaleDown) => {
    const app = `legacy-${scaleDown === 'progressively' ? 'prog' : 'succ'}`;
    const names = rolloutNames(app);
    // Before Tandem: the team's Deployment, serving.
    await k.request('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, teamDeployment(app, teamTemplate(app)));
    await deploymentSettled(app);
    const watch = watchInService(app);

    // Step 1 of the guide: the Deployment's template with Tandem's additions (same image: the `old`
    // release), and what AppRollout declares beside the Rollout.
    await apply(k, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: names.appSecret, namespace: NS },
      type: 'Opaque',
      stringData: { [DATABASE_URL_KEY]: 'postgres://legacy_app:a@postgres.e2e-move.svc:5432/shop' },
    });
    const template = tandemPodTemplate({
      app,
      podTemplate: teamTemplate(app),
      container: 'web',
      release: parseRelease('old', IMAGE),
      appVersion: 'v1',
      databaseUrlEnv: 'LEGACY_PG_URL',
    });
    const changed = await k.request<any>('PUT', `/apis/apps/v1/namespaces/${NS}/deployments/${app}`, {
      ...(await deployment(app)),
      spec: teamDeployment(app, template).spec,
    });
    await deploymentSettled(app, changed.metadata.generation);
    await apply(k, buildService(app, NS, 'stable'));
    await apply(k, buildService(app, NS, 'canary'));
    await apply(
      k,
      buildAnalysisTemplate({ app, namespace: NS, verifyImage: 'registry.invalid/tandem:e2e', specFile: 'x.yaml' }),
    );
    await apply(
      k,
      buildRolloutFromWorkload({
        app,
        namespace: NS,
        workloadRef: { name: app, scaleDown },
        appVersion: 'v1',
        replicas: REPLICAS,
        steps: [{ setWeight: 50 }, { analysis: {} }, { setWeight: 100 }],
      }),
    );

    // Argo takes over: the Rollout Healthy at full size, the Deployment scaled to zero.
    const ro = await until(`Rollout ${app} Healthy`, 180_000, async () => {
      const r = await getRollout(k, { app, namespace: NS });
      return evaluateRollout(r as RolloutObject).verdict === 'healthy' && r.status?.availableReplicas === REPLICAS
        ? r
        : undefined;
    });
    const d = await until(`Deployment ${app} scaled to zero`, 120_000, async () => {
      const x = await deployment(app);
      return x.spec.replicas === 0 && !(x.status?.replicas ?? 0) ? x : undefined;
    });
    await sleep(500);
    const seen = await watch.stop();

    expect(ro.spec.workloadRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: app, scaleDown });
    expect(d.spec.replicas).toBe(0);
    expect(await inService(app)).toBe(REPLICAS);
    // The Rollout's pods run the Deployment's template: the team's container with Tandem's env var.
    const pods = await k.request<any>(
      'GET',
      `/api/v1/namespaces/${NS}/pods?labelSelector=app.kubernetes.io%2Fname%3D${app}`,
    );
    const live = pods.items.filter((p: any) => !p.metadata.deletionTimestamp);
    expect(live.length).toBe(REPLICAS);
    for (const p of live) {
      expect(p.metadata.ownerReferences[0].kind).toBe('ReplicaSet');
      expect(p.spec.containers[0].env.map((e: any) => e.name)).toContain('LEGACY_PG_URL');
    }
    expect(seen.samples).toBeGreaterThan(10);
    expect(seen.min).toBeGreaterThanOrEqual(REPLICAS);
    // The handoff was seen: the Rollout's pods served beside the Deployment's (onsuccess keeps all
    // of the Deployment's until the Rollout is Healthy: twice the pods for a while).
    expect(seen.max).toBeGreaterThanOrEqual(scaleDown === 'onsuccess' ? 2 * REPLICAS : REPLICAS + 1);
  },
);
