/**
 * The walker as a library, for platform pipelines: `walk()` and `plan()` over a StackDriver.
 *
 *   const driver = await openLocalStack({ stackName: 'prod', projectDir: '/srv/tandem' });
 *   const gates = createGates({ driver, projectDir: '/srv/tandem' });
 *   await walk(driver, gates, { to: 'contract', yes: true, lockDir: '/srv/tandem', onEvent: log });
 */
export { walk } from './walk';
export type { WalkOptions, WalkResult, StepReport } from './walk';
export { plan } from './plan';
export type { PlanOptions, PlanResult, PlanStep } from './plan';
export type { WalkEvent } from './walk-events';
export type { StackDriver, PendingOperation, ResourceEvent, PreviewOutcome, UpOutcome } from './stack-driver';
export { createGates } from './gates';
export type { Gates, GateOptions, GateOutcome, SchemaStepReport } from './gates';
export { openLocalStack } from './local-driver';
export type { LocalStackOptions } from './local-driver';
export {
  StackBusyError,
  PendingOperationsError,
  ClusterNotReadyError,
  GateFailedError,
  RolloutNotSettledError,
  SchemaContractedError,
  PulumiMissingError,
  PulumiCommandError,
} from './walk-errors';
export { PreviewRefusedError } from '../phases/deploy/preview-check';
export { UnsafeMoveBackError } from '../phases/deploy/walk-path';
export { acquireWalkLock, withWalkLock } from './walk-lock';
export { findPulumi } from './pulumi-cli';
export { loadProjectProgram, ProgramExitError, ProgramNotCompiledError } from './inline-program';
