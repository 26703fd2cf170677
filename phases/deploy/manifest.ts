/**
 * A Kubernetes object (or a part of one: a pod template, a container) as JSON, the way the API and
 * pulumi-kubernetes take it. Its shape is its kind's schema, which the tests check the built
 * Rollouts against (the Argo Rollouts CRD); it is typed loosely on purpose, so a team's own fields
 * (sidecars, probes, volumes, anything a newer API adds) pass through Tandem untouched.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the one loose type: see above
export type Manifest = Record<string, any>;
