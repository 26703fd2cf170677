/**
 * Where the app side goes: a live cluster, or YAML files (`tandem:renderYamlTo`). Pure. The program
 * records the target in the stack's `kubernetes` output and checks the previous one before it
 * declares anything: switching a stack whose objects are live in a cluster to render mode moves
 * every Kubernetes resource to the render provider, which the engine carries out as a replacement:
 * the live Rollout, Services and Secrets are deleted, the app goes down. So that switch is refused.
 */
import { RefusedError } from '../errors';

export type KubernetesTarget = 'cluster' | 'render';

/** The stack output that records the target of the last update. */
export const KUBERNETES_TARGET_OUTPUT = 'kubernetes';

export function kubernetesTarget(renderYamlTo: string | undefined): KubernetesTarget {
  return renderYamlTo ? 'render' : 'cluster';
}

/** Turning on render mode for a stack whose app is live in a cluster: exit 1, nothing declared. */
export class RenderModeSwitchError extends RefusedError {
  readonly kind = 'render_mode_switch';
  constructor(
    readonly stack: string,
    readonly renderYamlTo: string,
  ) {
    super(
      `stack ${stack} runs its app in a cluster; rendering it to ${renderYamlTo} instead would replace every Kubernetes resource, ` +
        'which deletes the live app. Unset tandem:renderYamlTo, or render from a stack of its own (pulumi stack init)',
    );
    this.name = 'RenderModeSwitchError';
  }
}

/** `previous` is the stack's last `kubernetes` output (undefined before the first update). */
export function checkKubernetesTarget(
  stack: string,
  previous: unknown,
  renderYamlTo: string | undefined,
): KubernetesTarget {
  const next = kubernetesTarget(renderYamlTo);
  if (previous === 'cluster' && next === 'render') throw new RenderModeSwitchError(stack, renderYamlTo!);
  return next;
}
