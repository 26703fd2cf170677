/**
 * The Rollout for a team's OWN workload: its pod template, or its existing Deployment referenced
 * by Argo Rollouts' `workloadRef`. Tandem puts in only what the stage decides: the release's image
 * and environment on the container that runs it, the database credentials under the env var name
 * the team chooses, the version label, and the canary strategy with Tandem's verify analysis;
 * everything else (sidecars, probes, resources, volumes, service account) stays the team's. Pure:
 * TandemMigration wraps the result in a Kubernetes CustomResource; a program of its own can too
 * (a `kubernetes:` resource is app-side for the walker), with the AnalysisTemplate and the Services
 * from buildAnalysisTemplate / buildService.
 */
import { CanaryStep } from './canary-steps';
import { ConfigError } from './config-error';
import { Release } from './releases';
import {
  argoCanarySteps,
  DATABASE_URL_KEY,
  PATCH_FORCE,
  rolloutNames,
  SKIP_AWAIT,
  VERSION_LABEL,
} from './rollout-spec';
import { AppVersion } from './stages';
import { Manifest } from './manifest';

/** What Tandem adds to a team's pod template (for a Rollout's template, or a referenced Deployment's). */
export interface TandemPodTemplateArgs {
  /** The app name: the `app.kubernetes.io/name` label the Rollout and its Services select on. */
  readonly app: string;
  /** The team's pod template (a Kubernetes PodTemplateSpec: `{ metadata, spec: { containers, ... } }`). */
  readonly podTemplate: Manifest;
  /** The container that runs the release; may be left out only when the template has one container. */
  readonly container?: string;
  /** The stage's release (the TandemMigration plan's role, from the migration's releases). */
  readonly release: Release;
  /** The role's alias (v1, v2, v3): the version label, and what the verify analysis checks for. */
  readonly appVersion: AppVersion;
  /**
   * The env var the container reads the app role's database URL from, set from the app Secret
   * (`<app>-db`, key DATABASE_URL) that AppRollout declares. Absent: no database env var is added
   * (the team wires its own credentials).
   */
  readonly databaseUrlEnv?: string;
}

export interface RolloutFromTemplateArgs extends TandemPodTemplateArgs {
  readonly namespace: string;
  readonly replicas: number;
  /** Must hold an analysis step (the consistency gate): steps without one are refused. */
  readonly steps: readonly CanaryStep[];
}

/** How Argo Rollouts scales the referenced Deployment down (its `workloadRef.scaleDown`). */
export const SCALE_DOWN = ['never', 'onsuccess', 'progressively'] as const;
export type ScaleDown = (typeof SCALE_DOWN)[number];

/** A team's existing Deployment, which the Rollout takes its pod template from. */
export interface WorkloadRef {
  /** The Deployment's name, in the Rollout's namespace. */
  readonly name: string;
  /**
   * never: the Deployment keeps its replicas; onsuccess: Argo scales it to zero once the Rollout is
   * healthy; progressively: Argo scales it down as the Rollout scales up (default: progressively).
   */
  readonly scaleDown?: ScaleDown;
}

export interface RolloutFromWorkloadArgs {
  readonly app: string;
  readonly namespace: string;
  readonly workloadRef: WorkloadRef;
  readonly appVersion: AppVersion;
  readonly replicas: number;
  readonly steps: readonly CanaryStep[];
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function containerOf(containers: Manifest[], name: string | undefined): Manifest {
  if (name !== undefined) {
    const found = containers.find((c) => c?.name === name);
    if (!found)
      throw new ConfigError(
        'container',
        `the pod template has no container named ${name} (it has ${containers.map((c) => c?.name).join(', ')})`,
      );
    return found;
  }
  if (containers.length > 1) {
    throw new ConfigError(
      'container',
      `the pod template has ${containers.length} containers (${containers.map((c) => c?.name).join(', ')}); name the one that runs the release`,
    );
  }
  return containers[0];
}

/**
 * The team's pod template with Tandem's additions, a copy (the input is not changed): the release's
 * image and environment on the release's container, the database env var, the app and version labels.
 */
export function tandemPodTemplate(a: TandemPodTemplateArgs): Manifest {
  const template = JSON.parse(JSON.stringify(a.podTemplate ?? {})) as Manifest;
  const containers: Manifest[] = template.spec?.containers ?? [];
  if (!Array.isArray(containers) || containers.length === 0) throw new ConfigError('podTemplate', 'has no containers');
  const target = containerOf(containers, a.container);
  if (a.databaseUrlEnv !== undefined && !ENV_NAME.test(a.databaseUrlEnv))
    throw new ConfigError('databaseUrlEnv', `"${a.databaseUrlEnv}" is not an environment variable name`);
  target.image = a.release.image;
  const release = Object.entries(a.release.env).map(([name, value]) => ({ name, value }));
  const database =
    a.databaseUrlEnv === undefined
      ? []
      : [
          {
            name: a.databaseUrlEnv,
            valueFrom: { secretKeyRef: { name: rolloutNames(a.app).appSecret, key: DATABASE_URL_KEY } },
          },
        ];
  const ours = new Set([...release, ...database].map((e) => e.name));
  target.env = [
    ...((target.env ?? []) as { name: string }[]).filter((e) => !ours.has(e.name)),
    ...release,
    ...database,
  ];
  const labels = {
    ...(template.metadata?.labels ?? {}),
    'app.kubernetes.io/name': a.app,
    [VERSION_LABEL]: a.appVersion,
  };
  template.metadata = { ...(template.metadata ?? {}), labels };
  return template;
}

function rolloutObject(
  app: string,
  namespace: string,
  replicas: number,
  steps: readonly CanaryStep[],
  appVersion: AppVersion,
  workload: Manifest,
): Manifest {
  const names = rolloutNames(app);
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: {
      name: names.rollout,
      namespace,
      labels: { 'app.kubernetes.io/name': app, 'app.kubernetes.io/managed-by': 'tandem' },
      annotations: { ...SKIP_AWAIT, ...PATCH_FORCE },
    },
    spec: {
      replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: { 'app.kubernetes.io/name': app } },
      ...workload,
      strategy: {
        canary: {
          stableService: names.stableService,
          canaryService: names.canaryService,
          steps: argoCanarySteps(steps, names.analysisTemplate, appVersion),
        },
      },
    },
  };
}

export function buildRolloutFromTemplate(a: RolloutFromTemplateArgs): Manifest {
  return rolloutObject(a.app, a.namespace, a.replicas, a.steps, a.appVersion, { template: tandemPodTemplate(a) });
}

/**
 * The Rollout that takes its pod template from the team's Deployment (Argo Rollouts' workloadRef):
 * the Deployment stays the team's resource, and its template must carry Tandem's additions
 * (tandemPodTemplate: the release image, the database env var, the labels the Rollout selects on).
 */
export function buildRolloutFromWorkload(a: RolloutFromWorkloadArgs): Manifest {
  const ref = a.workloadRef;
  if (!ref || typeof ref.name !== 'string' || ref.name.trim() === '')
    throw new ConfigError('workloadRef.name', 'must name the Deployment');
  const scaleDown = ref.scaleDown ?? 'progressively';
  if (!SCALE_DOWN.includes(scaleDown))
    throw new ConfigError('workloadRef.scaleDown', `"${String(scaleDown)}" is not one of ${SCALE_DOWN.join(', ')}`);
  return rolloutObject(a.app, a.namespace, a.replicas, a.steps, a.appVersion, {
    workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: ref.name, scaleDown },
  });
}
