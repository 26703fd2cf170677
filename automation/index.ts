/** The walker as a library, for platform pipelines: `walk()` and `plan()` over a StackDriver. */
export { walk, plan } from './walk';
export type { WalkOptions, WalkResult, StepReport, PlanOptions, PlanResult, PlanStep } from './walk';
export type { WalkEvent } from './walk-events';
export type { StackDriver, PendingOperation, ResourceEvent, PreviewOutcome, UpOutcome } from './stack-driver';
export { createGates } from './gates';
export type { Gates, GateOptions, GateOutcome } from './gates';
export { openLocalStack } from './local-driver';
export type { LocalStackOptions } from './local-driver';
export { StackBusyError, PendingOperationsError, GateFailedError, PulumiMissingError } from './walk-errors';
export { acquireWalkLock } from './walk-lock';
export { findPulumi } from './pulumi-cli';
