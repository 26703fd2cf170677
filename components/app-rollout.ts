import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { COMPONENT_TYPES } from '../phases/deploy/resource-side';
import {
  buildAnalysisTemplate,
  buildRollout,
  buildService,
  DATABASE_URL_KEY,
  PATCH_FORCE,
  rolloutNames,
  RolloutSpecArgs,
} from '../phases/deploy/rollout-spec';
import { buildRolloutFromTemplate, buildRolloutFromWorkload, WorkloadRef } from '../phases/deploy/rollout-template';
import { Manifest } from '../phases/deploy/manifest';

/**
 * The arguments of an AppRollout: the app version this stack state runs and how its canary moves.
 * The manifests themselves are built by the pure functions in phases/deploy/rollout-spec.ts.
 */
export interface AppRolloutArgs extends RolloutSpecArgs {
  /** An image with the `tandem` CLI on PATH, for the verify Job. */
  readonly verifyImage: string;
  /** The spec's file name and text, mounted at /spec in the verify Job. */
  readonly specFile: string;
  readonly specText: string;
  /** The app role's connection URL (secret), for the app containers. */
  readonly appDatabaseUrl: pulumi.Input<string>;
  /** The connection URL the verify Job uses (secret). */
  readonly verifyDatabaseUrl: pulumi.Input<string>;
  /**
   * What the Rollout depends on besides its own objects (TandemMigration: the SchemaChange, whose
   * Commands' URNs the engine records), so a delete of both deletes the Rollout first. A change of
   * dependencies alone is no diff: adding the expand Command in a schema step changes no app input.
   */
  readonly after?: readonly pulumi.Resource[];
  /**
   * The team's own pod template (phases/deploy/rollout-template.ts): Tandem sets the image and the
   * release's env on `container`, and the app role's URL under `databaseUrlEnv`; containerPort and
   * Tandem's probe are not used. Absent: Tandem's own template (one container `app`).
   */
  readonly podTemplate?: Manifest;
  /** The container of podTemplate that runs the release (required when it has more than one). */
  readonly container?: string;
  /** The env var the team's container reads the app role's URL from (default DATABASE_URL). */
  readonly databaseUrlEnv?: string;
  /**
   * The team's existing Deployment, which the Rollout takes its pod template from (Argo Rollouts'
   * workloadRef); the Deployment's template carries the release (TandemMigration.podTemplate).
   */
  readonly workloadRef?: WorkloadRef;
  /**
   * The name this AppRollout had before (TandemMigration's unscoped 0.1 name: the app name): each
   * child carries an alias to `${formerName}-<role>`, so a stack created then keeps its objects.
   * Give the AppRollout itself the alias in its resource options.
   */
  readonly formerName?: string;
}

/** The Rollout object for the args: the team's Deployment, the team's pod template, or Tandem's own. */
function rolloutObject(args: AppRolloutArgs): Manifest {
  const common = {
    app: args.app,
    namespace: args.namespace,
    appVersion: args.appVersion,
    replicas: args.replicas,
    steps: args.steps,
  };
  if (args.workloadRef) return buildRolloutFromWorkload({ ...common, workloadRef: args.workloadRef });
  if (args.podTemplate) {
    const image = args.imageTag === undefined ? args.image : `${args.image}:${args.imageTag}`;
    return buildRolloutFromTemplate({
      ...common,
      podTemplate: args.podTemplate,
      container: args.container,
      release: { image, env: args.env ?? {} },
      databaseUrlEnv: args.databaseUrlEnv ?? DATABASE_URL_KEY,
    });
  }
  return buildRollout({
    ...common,
    image: args.image,
    imageTag: args.imageTag,
    env: args.env,
    containerPort: args.containerPort,
  });
}

/**
 * The app side of a stack state: an Argo Rollouts Rollout with a canary strategy, its stable and
 * canary Services, and an AnalysisTemplate whose Job runs `tandem verify --for-app <version>`, so
 * each canary is gated on whether the table can serve that version. Children: `${name}-app-db` and `${name}-verify-db` Secrets, `${name}-spec`
 * ConfigMap, `${name}-stable` and `${name}-canary` Services, `${name}-verify` AnalysisTemplate and
 * `${name}-rollout`. The Rollout carries `pulumi.com/skipAwait` (the up does not wait for it;
 * `tandem walk` waits for each canary itself) and every object `pulumi.com/patchForce` (the stack's
 * fields win over another field manager's): phases/deploy/rollout-spec.ts says why.
 */
export class AppRollout extends pulumi.ComponentResource {
  readonly rollout: k8s.apiextensions.CustomResource;
  readonly rolloutName: string;

  constructor(name: string, args: AppRolloutArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.appRollout, name, {}, opts);
    const names = rolloutNames(args.app);
    // Each child as `${name}-<role>`, with an alias to `${formerName}-<role>` when the component was renamed.
    const childOpts = (role: string, more: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({
      parent: this,
      ...more,
      ...(args.formerName ? { aliases: [{ name: `${args.formerName}-${role}` }] } : {}),
    });
    const secret = (role: string, objectName: string, url: pulumi.Input<string>) =>
      new k8s.core.v1.Secret(
        `${name}-${role}`,
        {
          metadata: { name: objectName, namespace: args.namespace, annotations: { ...PATCH_FORCE } },
          type: 'Opaque',
          stringData: { [DATABASE_URL_KEY]: pulumi.secret(url) },
        },
        childOpts(role),
      );
    const appSecret = secret('app-db', names.appSecret, args.appDatabaseUrl);
    const verifySecret = secret('verify-db', names.verifySecret, args.verifyDatabaseUrl);
    const specConfigMap = new k8s.core.v1.ConfigMap(
      `${name}-spec`,
      {
        metadata: { name: names.specConfigMap, namespace: args.namespace, annotations: { ...PATCH_FORCE } },
        data: { [args.specFile]: args.specText },
      },
      childOpts('spec'),
    );
    const stable = new k8s.core.v1.Service(
      `${name}-stable`,
      buildService(args.app, args.namespace, 'stable'),
      childOpts('stable'),
    );
    const canary = new k8s.core.v1.Service(
      `${name}-canary`,
      buildService(args.app, args.namespace, 'canary'),
      childOpts('canary'),
    );
    const template = new k8s.apiextensions.CustomResource(
      `${name}-verify`,
      buildAnalysisTemplate({
        app: args.app,
        namespace: args.namespace,
        verifyImage: args.verifyImage,
        specFile: args.specFile,
      }) as k8s.apiextensions.CustomResourceArgs,
      childOpts('verify', { dependsOn: [verifySecret, specConfigMap] }),
    );
    this.rollout = new k8s.apiextensions.CustomResource(
      `${name}-rollout`,
      rolloutObject(args) as k8s.apiextensions.CustomResourceArgs,
      childOpts('rollout', { dependsOn: [appSecret, stable, canary, template, ...(args.after ?? [])] }),
    );
    this.rolloutName = names.rollout;
    this.registerOutputs({ rolloutName: names.rollout, appVersion: args.appVersion });
  }
}
