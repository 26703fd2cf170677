/** The walker as a library, for platform pipelines: `walk()` and `plan()` over a StackDriver. */
export { walk } from './walk';
export type { WalkOptions, WalkResult, StepReport } from './walk';
export { plan } from './plan';
export type { PlanOptions, PlanResult, PlanStep } from './plan';
export type { WalkEvent } from './walk-events';
export type { StackDriver, PendingOperation, ResourceEvent, PreviewOutcome, UpOutcome } from './stack-driver';
export { createGates } from './gates';
export type { Gates, GateOptions, GateOutcome } from './gates';
export { openLocalStack } from './local-driver';
export type { LocalStackOptions } from './local-driver';
export { StackBusyError, PendingOperationsError, GateFailedError, PulumiMissingError } from './walk-errors';
export { acquireWalkLock } from './walk-lock';
export { findPulumi } from './pulumi-cli';
