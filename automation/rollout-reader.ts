/**
 * Reads an Argo Rollout from the cluster in the current kube context. @kubernetes/client-node 1.x
 * is an ES module: it is loaded with a real dynamic import (TypeScript's commonjs output would
 * turn `import()` into `require()`), only when a rollout gate actually runs, never in jest.
 */
import { RolloutObject } from '../phases/deploy/rollout-health';
import { errorCode } from '../phases/error-fields';
import { loadKubeClient } from './kube-client';

/** undefined when the Rollout does not exist. */
export type RolloutReader = (name: string, namespace: string) => Promise<RolloutObject | undefined>;

export const readRolloutFromCluster: RolloutReader = async (name, namespace) => {
  const k8s = await loadKubeClient();
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  try {
    return (await api.getNamespacedCustomObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      namespace,
      plural: 'rollouts',
      name,
    })) as RolloutObject;
  } catch (err) {
    if (errorCode(err) === 404) return undefined;
    throw err;
  }
};

/** Whether the namespace exists in the cluster of the current kube context. */
export async function namespaceExistsInCluster(name: string): Promise<boolean> {
  const k8s = await loadKubeClient();
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const api = kc.makeApiClient(k8s.CoreV1Api);
  try {
    await api.readNamespace({ name });
    return true;
  } catch (err) {
    if (errorCode(err) === 404) return false;
    throw err;
  }
}
