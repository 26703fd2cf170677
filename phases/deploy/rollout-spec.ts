/**
 * The Kubernetes manifests of the app side, as plain objects: the Argo Rollouts Rollout (canary
 * with stable and canary Services), the two Services, and the AnalysisTemplate whose Job runs
 * `tandem verify --for-app <version>` so a canary is only promoted while the table can serve that
 * version (consistent and backfilled, in the right schema state). Pure; AppRollout wraps
 * them in Pulumi resources, and the tests validate them against the upstream CRD schemas.
 */
import { CanaryStep } from './canary-steps';
import { ConfigError } from './config-error';
import { AppVersion } from './stages';
import { Manifest } from './manifest';

/** Every object name the app side uses, derived from the app name. */
export interface RolloutNames {
  readonly rollout: string;
  readonly stableService: string;
  readonly canaryService: string;
  readonly analysisTemplate: string;
  /** Secret with the app role's DATABASE_URL. */
  readonly appSecret: string;
  /** Secret with the DATABASE_URL the verify Job uses. */
  readonly verifySecret: string;
  /** ConfigMap holding the spec file, mounted at /spec in the verify Job. */
  readonly specConfigMap: string;
}

export function rolloutNames(app: string): RolloutNames {
  return {
    rollout: app,
    stableService: `${app}-stable`,
    canaryService: `${app}-canary`,
    analysisTemplate: `${app}-verify`,
    appSecret: `${app}-db`,
    verifySecret: `${app}-verify-db`,
    specConfigMap: `${app}-spec`,
  };
}

/** The key under which both Secrets hold the connection URL. */
export const DATABASE_URL_KEY = 'DATABASE_URL';
/** Where the verify Job finds the spec. */
export const SPEC_MOUNT_PATH = '/spec';
/**
 * The Rollout carries `pulumi.com/skipAwait`: the `up` returns once the object is applied, and
 * the walker waits for the canary itself (automation/gates.ts rolloutSettled, after every app step
 * and after the first deployment), bounded by its own wait and with its own advice. Tandem used
 * `pulumi.com/waitFor: jsonpath={.status.phase}=Healthy` before; on a real engine pulumi-kubernetes
 * 4.25 applies it on update too: it returns at once while the patched object still shows the old
 * Healthy status, but when the Rollout was not Healthy before the patch (a canary still running,
 * or Degraded: exactly when an operator walks back) the up blocked 10 minutes and then failed
 * after the spec was applied.
 */
export const SKIP_AWAIT = { 'pulumi.com/skipAwait': 'true' } as const;
/**
 * Every object Tandem applies carries `pulumi.com/patchForce`: pulumi-kubernetes' server-side
 * apply takes back the fields the stack declares when another field manager owns them (an
 * operator's `kubectl argo rollouts set image` or `undo`, or the manager of an earlier create that
 * `--clear-pending-creates` dropped from the state), instead of failing with "Apply failed with
 * conflicts". The stack's declaration is the truth; an operator's edit lasts until the next up.
 */
export const PATCH_FORCE = { 'pulumi.com/patchForce': 'true' } as const;
export const VERSION_LABEL = 'tandem.dev/app-version';

export interface RolloutSpecArgs {
  /** The app name: DNS-1123 label, the base of every object name. */
  readonly app: string;
  readonly namespace: string;
  /** Image repository of the app, e.g. ghcr.io/acme/tandem-demo; without imageTag, the full image reference (tag or digest). */
  readonly image: string;
  readonly imageTag?: string;
  readonly appVersion: AppVersion;
  readonly replicas: number;
  readonly containerPort: number;
  readonly steps: readonly CanaryStep[];
  /**
   * The release's own environment (phases/deploy/releases.ts). Unset: APP_VERSION=<appVersion>,
   * the demo app's data-layer switch. PORT and DATABASE_URL are always set by the Rollout.
   */
  readonly env?: Readonly<Record<string, string>>;
}

export interface AnalysisTemplateArgs {
  readonly app: string;
  readonly namespace: string;
  /** An image with the `tandem` CLI on PATH. */
  readonly verifyImage: string;
  /** The spec's file name inside the ConfigMap (e.g. split-full-name.yaml). */
  readonly specFile: string;
}

function labels(app: string): Record<string, string> {
  return { 'app.kubernetes.io/name': app, 'app.kubernetes.io/managed-by': 'tandem' };
}

function selector(app: string): Record<string, string> {
  return { 'app.kubernetes.io/name': app };
}

/**
 * The AnalysisTemplate's one argument: the app version of the canary being analysed. The template
 * stays the same in every stage (it is app-side and should not churn); the Rollout passes the version.
 */
export const APP_VERSION_ARG = 'app-version';

/**
 * Every canary Tandem declares carries a schema change's release, so it is gated on the consistency
 * analysis: steps without an analysis step are refused, not completed. Where the gate goes decides
 * how much traffic an unverified version gets (before the first weight, after it, at the end), and
 * that is the team's choice to make, not one to make silently for it. The same rule as the
 * `tandem:canarySteps` parser (canary-steps.ts), for steps a program passes directly.
 */
export function requireAnalysisStep(steps: readonly CanaryStep[]): void {
  if (!Array.isArray(steps) || !steps.some((s) => s !== null && typeof s === 'object' && 'analysis' in s)) {
    throw new ConfigError(
      'steps',
      'has no analysis step; a canary that carries a schema change must be gated on tandem verify: add { analysis: {} } where the canary should wait for it (e.g. after the first setWeight)',
    );
  }
}

/**
 * Tandem's steps in Argo's terms: an analysis step names the verify AnalysisTemplate and passes it
 * the canary's app version, so verify answers whether the table can serve THAT version now.
 */
export function argoCanarySteps(
  steps: readonly CanaryStep[],
  analysisTemplate: string,
  appVersion: AppVersion,
): object[] {
  requireAnalysisStep(steps);
  return steps.map((s) =>
    'analysis' in s
      ? {
          analysis: {
            templates: [{ templateName: analysisTemplate }],
            args: [{ name: APP_VERSION_ARG, value: appVersion }],
          },
        }
      : s,
  );
}

export function buildRollout(a: RolloutSpecArgs): Manifest {
  const names = rolloutNames(a.app);
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: {
      name: names.rollout,
      namespace: a.namespace,
      labels: labels(a.app),
      annotations: { ...SKIP_AWAIT, ...PATCH_FORCE },
    },
    spec: {
      replicas: a.replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selector(a.app) },
      template: {
        metadata: { labels: { ...labels(a.app), [VERSION_LABEL]: a.appVersion } },
        spec: {
          containers: [
            {
              name: 'app',
              image: a.imageTag === undefined ? a.image : `${a.image}:${a.imageTag}`,
              ports: [{ name: 'http', containerPort: a.containerPort, protocol: 'TCP' }],
              env: [
                ...(a.env
                  ? Object.entries(a.env).map(([name, value]) => ({ name, value }))
                  : [{ name: 'APP_VERSION', value: a.appVersion }]),
                { name: 'PORT', value: String(a.containerPort) },
                {
                  name: DATABASE_URL_KEY,
                  valueFrom: { secretKeyRef: { name: names.appSecret, key: DATABASE_URL_KEY } },
                },
              ],
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
            },
          ],
        },
      },
      strategy: {
        canary: {
          stableService: names.stableService,
          canaryService: names.canaryService,
          steps: argoCanarySteps(a.steps, names.analysisTemplate, a.appVersion),
        },
      },
    },
  };
}

export function buildService(app: string, namespace: string, role: 'stable' | 'canary', port = 80): Manifest {
  const names = rolloutNames(app);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: role === 'stable' ? names.stableService : names.canaryService,
      namespace,
      labels: labels(app),
      // pulumi-kubernetes waits for a new Service's Endpoints to list a Pod, but the Pods come from
      // the Rollout, which is created after its Services: without this the first `up` never ends.
      annotations: { ...SKIP_AWAIT, ...PATCH_FORCE },
    },
    spec: {
      type: 'ClusterIP',
      // Argo Rollouts adds rollouts-pod-template-hash to this selector for each side.
      selector: selector(app),
      ports: [{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

export function buildAnalysisTemplate(a: AnalysisTemplateArgs): Manifest {
  const names = rolloutNames(a.app);
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: {
      name: names.analysisTemplate,
      namespace: a.namespace,
      labels: labels(a.app),
      annotations: { ...PATCH_FORCE },
    },
    spec: {
      // Required (no value): every analysis step of the Rollout passes it.
      args: [{ name: APP_VERSION_ARG }],
      metrics: [
        {
          name: 'data-consistency',
          count: 1,
          failureLimit: 0,
          provider: {
            job: {
              metadata: { labels: labels(a.app) },
              spec: {
                // One retry, so a dropped connection does not abort the canary; an inconsistent table fails twice.
                backoffLimit: 1,
                activeDeadlineSeconds: 600,
                template: {
                  metadata: { labels: labels(a.app) },
                  spec: {
                    restartPolicy: 'Never',
                    containers: [
                      {
                        name: 'verify',
                        image: a.verifyImage,
                        command: [
                          'tandem',
                          'verify',
                          `${SPEC_MOUNT_PATH}/${a.specFile}`,
                          '--for-app',
                          `{{args.${APP_VERSION_ARG}}}`,
                          '--json',
                        ],
                        env: [
                          {
                            name: DATABASE_URL_KEY,
                            valueFrom: { secretKeyRef: { name: names.verifySecret, key: DATABASE_URL_KEY } },
                          },
                        ],
                        volumeMounts: [{ name: 'spec', mountPath: SPEC_MOUNT_PATH, readOnly: true }],
                      },
                    ],
                    volumes: [{ name: 'spec', configMap: { name: names.specConfigMap } }],
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}
