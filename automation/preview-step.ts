import { checkPreview, ClassifiedChanges, SideClassifier } from '../phases/deploy/preview-check';
import { WalkMove } from '../phases/deploy/walk-path';
import { PreviewOutcome, StackDriver } from './stack-driver';

/**
 * Set the stack's config to the step's stage, preview it, and check the preview against hard
 * rule 1 (throws PreviewRefusedError). The caller restores the config when it does not go on.
 */
export async function previewStep(
  driver: StackDriver,
  step: WalkMove,
  classify?: SideClassifier,
): Promise<{ preview: PreviewOutcome; changes: ClassifiedChanges }> {
  await driver.setStage(step.to);
  const preview = await driver.preview();
  return { preview, changes: checkPreview(step, preview.changes, classify) };
}
