/**
 * @kubernetes/client-node is ESM-only and Tandem compiles to CommonJS, so it is loaded with a real
 * dynamic import (TypeScript would turn `import()` into `require`), typed as the module it is.
 */
export type KubeClientModule = typeof import('@kubernetes/client-node');

const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/** The client module, loaded on first use. */
export function loadKubeClient(): Promise<KubeClientModule> {
  return importEsm('@kubernetes/client-node') as Promise<KubeClientModule>;
}
