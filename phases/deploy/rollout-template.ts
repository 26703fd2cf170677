/**
 * The Rollout for a team's OWN pod template: Tandem sets only what the stage decides (the named
 * container's image, the release's environment, the version label) and the canary strategy with
 * Tandem's verify analysis; everything else in the template (sidecars, probes, resources, volumes,
 * service account) stays the team's. Pure: wrap the result in a Kubernetes CustomResource of your
 * own program (a `kubernetes:` resource is app-side for the walker), with the AnalysisTemplate and
 * the Services from buildAnalysisTemplate / buildService.
 */
import { CanaryStep } from './canary-steps';
import { ConfigError } from './config-error';
import { Release } from './releases';
import { argoCanarySteps, rolloutNames, VERSION_LABEL } from './rollout-spec';
import { AppVersion } from './stages';

export interface RolloutFromTemplateArgs {
  /** The app name: the Rollout's name and the base of the Services' and AnalysisTemplate's names. */
  readonly app: string;
  readonly namespace: string;
  /** The team's pod template (a Kubernetes PodTemplateSpec: `{ metadata, spec: { containers, ... } }`). */
  readonly podTemplate: Record<string, any>;
  /** The container that runs the release (default: the first). */
  readonly container?: string;
  /** The stage's release (the TandemMigration plan's role, from the migration's releases). */
  readonly release: Release;
  /** The role's alias (v1, v2, v3): the version label, and what the verify analysis checks for. */
  readonly appVersion: AppVersion;
  readonly replicas: number;
  readonly steps: readonly CanaryStep[];
}

export function buildRolloutFromTemplate(a: RolloutFromTemplateArgs): Record<string, any> {
  const names = rolloutNames(a.app);
  const template = JSON.parse(JSON.stringify(a.podTemplate ?? {})) as Record<string, any>;
  const containers: Record<string, any>[] = template.spec?.containers ?? [];
  if (!Array.isArray(containers) || containers.length === 0) throw new ConfigError('podTemplate', 'has no containers');
  const target = a.container === undefined ? containers[0] : containers.find((c) => c?.name === a.container);
  if (!target) throw new ConfigError('podTemplate', `has no container named ${a.container}`);
  target.image = a.release.image;
  const overridden = new Set(Object.keys(a.release.env));
  target.env = [...((target.env ?? []) as { name: string }[]).filter((e) => !overridden.has(e.name)), ...Object.entries(a.release.env).map(([name, value]) => ({ name, value }))];
  const labels = { ...(template.metadata?.labels ?? {}), 'app.kubernetes.io/name': a.app, [VERSION_LABEL]: a.appVersion };
  template.metadata = { ...(template.metadata ?? {}), labels };
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: names.rollout, namespace: a.namespace, labels: { 'app.kubernetes.io/name': a.app, 'app.kubernetes.io/managed-by': 'tandem' } },
    spec: {
      replicas: a.replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: { 'app.kubernetes.io/name': a.app } },
      template,
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
