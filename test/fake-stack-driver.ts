/**
 * A StackDriver that records every call, for driving the walker through its seam. It keeps a
 * deployed stage and a configured stage like a real stack: setStage changes the config, up
 * deploys what the config says with the plan the last preview saved. Previews return, per target
 * stage, the changes a test gives, or by default one change on the side the step must change.
 */
import { ResourceChange } from '../phases/deploy/preview-check';
import { Stage, sideBetween, stageIndex } from '../phases/deploy/stages';
import { PendingOperation, PreviewOutcome, ResourceEvent, StackDriver, UpOutcome } from '../automation/stack-driver';

export const SCHEMA_CHANGE: ResourceChange = {
  op: 'update',
  type: 'command:local:Command',
  urn: 'urn:pulumi:dev::tandem::tandem:schema:SchemaChange$command:local:Command::schema-expand',
};
export const APP_CHANGE: ResourceChange = {
  op: 'update',
  type: 'kubernetes:argoproj.io/v1alpha1:Rollout',
  urn: 'urn:pulumi:dev::tandem::tandem:app:AppRollout$kubernetes:argoproj.io/v1alpha1:Rollout::app-rollout',
};
const UNCHANGED: ResourceChange = {
  op: 'same',
  type: 'pulumi:pulumi:Stack',
  urn: 'urn:pulumi:dev::tandem::pulumi:pulumi:Stack::tandem-dev',
};

export interface FakeStackOptions {
  readonly stage: Stage | null;
  /** What the preview shows when the config is at a stage (default: one change on the right side). */
  readonly previews?: Partial<Record<Stage, ResourceChange[]>>;
  readonly pending?: PendingOperation[];
  /** Make up() to this stage throw this error. */
  readonly upFailsAt?: { readonly stage: Stage; readonly error: Error };
  readonly config?: Record<string, string>;
  readonly outputs?: Record<string, unknown>;
  /** The preview saves no update plan (a CLI without plan support). */
  readonly noPlan?: boolean;
}

export class FakeStackDriver implements StackDriver {
  readonly stackName = 'dev';
  readonly calls: string[] = [];
  deployed: Stage | null;
  configured: Stage | null;
  pending: PendingOperation[];
  private lastPlan?: string;
  private plans = 0;

  constructor(private readonly options: FakeStackOptions) {
    this.deployed = options.stage;
    this.configured = options.stage;
    this.pending = [...(options.pending ?? [])];
  }

  /** The stages up() deployed, in order. */
  get ups(): string[] {
    return this.calls.filter((c) => c.startsWith('up ')).map((c) => c.split(' ')[1]);
  }

  async currentStage() {
    this.calls.push('currentStage');
    return this.deployed;
  }

  async setStage(stage: Stage) {
    this.calls.push(`setStage ${stage}`);
    this.configured = stage;
  }

  private defaultChanges(to: Stage): ResourceChange[] {
    if (this.deployed === null) return [{ ...SCHEMA_CHANGE, op: 'create' }, { ...APP_CHANGE, op: 'create' }, UNCHANGED];
    if (this.deployed === to || Math.abs(stageIndex(this.deployed) - stageIndex(to)) !== 1) {
      throw new Error(`fake: preview of ${to} from ${this.deployed} is not one step`);
    }
    return [sideBetween(this.deployed, to) === 'schema' ? SCHEMA_CHANGE : APP_CHANGE, UNCHANGED];
  }

  async preview(): Promise<PreviewOutcome> {
    const to = this.configured!;
    this.calls.push(`preview ${to}`);
    this.lastPlan = this.options.noPlan ? undefined : `plan-${++this.plans}-${to}.json`;
    return { changes: this.options.previews?.[to] ?? this.defaultChanges(to), planFile: this.lastPlan };
  }

  async up(opts: { planFile?: string; onEvent?: (e: ResourceEvent) => void }): Promise<UpOutcome> {
    const to = this.configured!;
    this.calls.push(`up ${to} ${opts.planFile}`);
    if (opts.planFile !== this.lastPlan)
      throw new Error(`fake: up with plan ${opts.planFile}, but the last preview saved ${this.lastPlan}`);
    if (this.options.upFailsAt?.stage === to) throw this.options.upFailsAt.error;
    opts.onEvent?.({ phase: 'pre', ...APP_CHANGE });
    this.deployed = to;
    return { resourceChanges: { update: 1, same: 1 } };
  }

  async pendingOperations() {
    this.calls.push('pendingOperations');
    return [...this.pending];
  }

  async recoverPendingOperations() {
    this.calls.push('recoverPendingOperations');
    this.pending = [];
  }

  recoveryCommand() {
    return 'pulumi refresh --stack dev --clear-pending-creates --yes';
  }

  async config(key: string) {
    return this.options.config?.[key];
  }

  async outputs() {
    return this.options.outputs ?? {};
  }
}
