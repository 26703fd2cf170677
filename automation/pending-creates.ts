/**
 * What to do with the creates an interrupted update left pending. A pending create means the
 * engine asked the provider to create the object and never heard back: it may exist or not.
 * - A Kubernetes object that exists in the cluster is imported (`pulumi refresh
 *   --import-pending-creates URN ID`): the stack adopts it, and the next `up` diffs against it.
 * - Anything else is cleared (`--clear-pending-creates`) and created again by the next `up`. That is
 *   safe for Tandem's resources: a tandem step is idempotent, and pulumi-kubernetes 4.25 (pinned)
 *   creates with server-side apply, which adopts an object that exists after all (the program
 *   refuses kubernetes:enableServerSideApply false). Releases from 4.29 on create client-side and
 *   would fail with AlreadyExists; importing what exists does not depend on that.
 */
import { errorCode } from '../phases/error-fields';
import { ExportedDeployment } from './engine-events';
import { loadKubeClient } from './kube-client';

/** A pending create to import: its URN and the provider ID (`namespace/name` for pulumi-kubernetes). */
export interface PendingImport {
  readonly urn: string;
  readonly id: string;
}

/** A Kubernetes object a pending create names: enough to look it up in the cluster. */
export interface PendingKubernetesObject {
  readonly urn: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

export type ObjectExists = (o: PendingKubernetesObject) => Promise<boolean>;

/** `kubernetes:core/v1:Secret` -> v1 Secret; `kubernetes:argoproj.io/v1alpha1:Rollout` -> argoproj.io/v1alpha1 Rollout. */
export function kubernetesKindOf(type: string): { apiVersion: string; kind: string } | undefined {
  const m = /^kubernetes:([^:]+)\/([^:/]+):([A-Za-z0-9]+)$/.exec(type);
  if (!m) return undefined;
  return { apiVersion: m[1] === 'core' ? m[2] : `${m[1]}/${m[2]}`, kind: m[3] };
}

/**
 * The pending creates of objects in a live cluster that could be imported: Kubernetes objects with
 * an explicit name, under the default kubernetes provider (a render-mode provider writes files;
 * clearing its creates is all that is needed).
 */
export function pendingKubernetesObjects(exported: ExportedDeployment): PendingKubernetesObject[] {
  const out: PendingKubernetesObject[] = [];
  for (const op of exported.deployment?.pending_operations ?? []) {
    const r = op?.resource;
    if (op?.type !== 'creating' || typeof r?.urn !== 'string' || typeof r?.type !== 'string') continue;
    const kind = kubernetesKindOf(r.type);
    const metadata = r.inputs?.metadata as { name?: unknown; namespace?: unknown } | undefined;
    const name = metadata?.name;
    if (!kind || typeof name !== 'string' || name === '') continue;
    if (typeof r.provider === 'string' && !/::pulumi:providers:kubernetes::default(_[0-9_]+)?::/.test(r.provider))
      continue;
    const namespace = metadata?.namespace;
    out.push({
      urn: r.urn,
      ...kind,
      ...(typeof namespace === 'string' && namespace !== '' ? { namespace } : {}),
      name,
    });
  }
  return out;
}

/** pulumi-kubernetes' resource ID: `namespace/name`, or `name` for a cluster-scoped object. */
export function kubernetesId(o: Pick<PendingKubernetesObject, 'namespace' | 'name'>): string {
  return o.namespace ? `${o.namespace}/${o.name}` : o.name;
}

/** Which pending Kubernetes creates exist in the cluster, as imports. */
export async function pendingImports(exported: ExportedDeployment, exists: ObjectExists): Promise<PendingImport[]> {
  const imports: PendingImport[] = [];
  for (const o of pendingKubernetesObjects(exported))
    if (await exists(o)) imports.push({ urn: o.urn, id: kubernetesId(o) });
  return imports;
}

/** The `pulumi refresh` arguments that import these and clear every other pending create. */
export function recoveryArgs(stackName: string, projectDir: string, imports: readonly PendingImport[]): string[] {
  return [
    'refresh',
    '--cwd',
    projectDir,
    '--stack',
    stackName,
    ...imports.flatMap((i) => ['--import-pending-creates', i.urn, '--import-pending-creates', i.id]),
    '--clear-pending-creates',
    '--yes',
  ];
}

/** Looks the object up in the current kube context; false when it is not there (404). */
export const kubernetesObjectExists: ObjectExists = async (o) => {
  const k8s = await loadKubeClient();
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  try {
    await api.read({
      apiVersion: o.apiVersion,
      kind: o.kind,
      metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) },
    });
    return true;
  } catch (err) {
    if (errorCode(err) === 404) return false;
    throw err;
  }
};
