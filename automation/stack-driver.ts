/**
 * The walker's seam around the Pulumi Automation API: everything the walker does to a stack goes
 * through this interface. automation/local-driver.ts is the one real implementation; the tests
 * drive the walker through a fake that records calls.
 */
import { ResourceChange } from '../phases/deploy/preview-check';
import { Stage } from '../phases/deploy/stages';

export type { ResourceChange };

/** A resource operation an interrupted update left behind (the deployment's pending_operations). */
export interface PendingOperation {
  readonly urn: string;
  readonly type: string;
  /** creating, updating, deleting, reading. */
  readonly op: string;
}

/** A resource step while an update runs (for live progress and --json). */
export interface ResourceEvent {
  /** pre: the step starts; done: it finished; failed: it failed. */
  readonly phase: 'pre' | 'done' | 'failed';
  readonly op: string;
  readonly urn: string;
  readonly type: string;
}

export interface PreviewOutcome {
  readonly changes: readonly ResourceChange[];
  /** The saved update plan: the up that follows cannot do more than these changes (checked per resource while it runs). */
  readonly planFile?: string;
}

export interface UpOutcome {
  /** Resource counts by op, e.g. { create: 2, same: 7 }. */
  readonly resourceChanges: Readonly<Record<string, number>>;
}

export interface StackDriver {
  /** The stack's name as the user gave it. */
  readonly stackName: string;
  /**
   * The stage the stack is in: the `tandem:stage` of its last successful update (or that update's
   * `stage` output); null when it has never been deployed (or was destroyed).
   */
  currentStage(): Promise<Stage | null>;
  /** Set `tandem:stage` in the stack's config (the next preview/up declares that stage). */
  setStage(stage: Stage): Promise<void>;
  /** A preview of the configured stage, saving an update plan when the backend supports it. */
  preview(): Promise<PreviewOutcome>;
  /** Run the update, constrained to the plan when one is given. */
  up(opts: { readonly planFile?: string; readonly onEvent?: (event: ResourceEvent) => void }): Promise<UpOutcome>;
  /** Operations an interrupted update left pending in the stack's state. */
  pendingOperations(): Promise<PendingOperation[]>;
  /** Resolve pending creates: import Kubernetes objects that exist, clear the rest (`pulumi refresh --import-pending-creates ... --clear-pending-creates`). */
  recoverPendingOperations(): Promise<void>;
  /** The exact shell command that does what recoverPendingOperations does, for the user to run. */
  recoveryCommand(): string;
  /** A stack config value (`tandem:appName`; secrets decrypted), or undefined. */
  config(key: string): Promise<string | undefined>;
  /** The stack's outputs from the last up. */
  outputs(): Promise<Readonly<Record<string, unknown>>>;
  /** Set `tandem:migration` (the current migration of a history); needed by `walk --to next`. */
  setMigration?(name: string): Promise<void>;
}
