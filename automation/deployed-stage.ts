/**
 * Which stage a stack is in, from its update history: the `tandem:stage` its last SUCCESSFUL update
 * ran with. Not the stack's config (the walker sets it before each up, and an up can fail) and not
 * only the `stage` output (a failed update can still record the new outputs), so a walk after a
 * failed step starts that step again.
 */
import { UsageError } from '../phases/errors';
import { isStage, Stage } from '../phases/deploy/stages';

/** The parts of `pulumi stack history --json` entries this reads (newest first). */
export interface HistoryEntry {
  readonly kind: string;
  readonly result: string;
  readonly config?: Readonly<Record<string, { readonly value?: unknown } | undefined>>;
}

export function deployedStage(
  stack: string,
  history: readonly HistoryEntry[],
  outputs: Readonly<Record<string, unknown>>,
): Stage | null {
  const last = history.find((h) => h.result === 'succeeded' && (h.kind === 'update' || h.kind === 'destroy'));
  if (!last || last.kind === 'destroy') return null;
  const configured = last.config?.['tandem:stage']?.value;
  if (isStage(configured)) return configured;
  if (isStage(outputs.stage)) return outputs.stage;
  throw new UsageError(
    `stack ${stack} was last updated without a valid tandem:stage (${JSON.stringify(configured ?? null)}), so its stage is unknown; set tandem:stage to the stage it is in and run \`pulumi up\` once`,
  );
}
