/**
 * Tandem as a Pulumi component library: the components and the stage planner, typed and
 * documented, for a team that already has a Pulumi program for its app.
 *
 *   import { TandemMigration } from 'tandem';
 *   new TandemMigration('shop', {
 *     migrations: [{ spec: 'migrations/split-full-name.yaml', releases: { old: 'ghcr.io/acme/shop:1.14.2', dual: '...', new: '...' } }],
 *     stage: config.require('stage'),
 *     databaseUrl, appDatabaseUrl, verifyDatabaseUrl, appName: 'shop', verifyImage: 'ghcr.io/acme/tandem:0.1.0',
 *   });
 *
 * The team's own workload goes in as `podTemplate` (+ `container`) or as its existing Deployment
 * (`workloadRef`); docs/component-guide.md walks through it. Or use the pieces: SchemaChange (the
 * tandem Commands of one migration), DatabaseAccess (roles and grants), AppRollout (the canary),
 * and the pure builders (buildRolloutFromTemplate / buildRolloutFromWorkload / tandemPodTemplate
 * for the team's own workload, buildAnalysisTemplate, buildService)
 * under any Kubernetes resource. `tandem walk` moves a stack from stage to stage and checks each
 * preview changes one side only: declare schema resources under SchemaChange or DatabaseAccess and
 * app resources as Kubernetes resources, so the walker can tell them apart.
 */
export { TandemMigration, loadMigrations, resolveProjectDir } from '../components/tandem-migration';
export type {
  TandemMigrationArgs,
  MigrationInput,
  ReleaseInput,
  MigrationRecord,
} from '../components/tandem-migration';
export { SchemaChange } from '../components/schema-change';
export type { SchemaChangeArgs } from '../components/schema-change';
export { DatabaseAccess } from '../components/database-access';
export type { DatabaseAccessArgs } from '../components/database-access';
export { AppRollout } from '../components/app-rollout';
export type { AppRolloutArgs } from '../components/app-rollout';

// The stage planner and the stage table.
export { STAGES, STAGE_TABLE, isStage, sideBetween } from '../phases/deploy/stages';
export type { Stage, Side, SchemaState, AppVersion, StageDefinition } from '../phases/deploy/stages';
export { planMigrationStage, allPositions, MigrationPositionError } from '../phases/deploy/migration-stage';
export type {
  MigrationPosition,
  MigrationStagePlan,
  DeclaredSchemaChange,
  AppSide,
  MigrationStatus,
} from '../phases/deploy/migration-stage';
export { planStackState, SCHEMA_COMMANDS } from '../phases/deploy/stack-state';
export type { StackState, SchemaCommandStep } from '../phases/deploy/stack-state';
export { walkPath, UnsafeMoveBackError } from '../phases/deploy/walk-path';
export type { WalkMove, GateName } from '../phases/deploy/walk-path';

// History and releases.
export { parseMigrationList, checkUniqueNames, currentMigrationIndex } from '../phases/deploy/migration-history';
export type { MigrationEntry } from '../phases/deploy/migration-history';
export {
  RELEASE_KINDS,
  KIND_OF_VERSION,
  VERSION_OF_KIND,
  parseReleaseKind,
  parseRelease,
  demoReleases,
} from '../phases/deploy/releases';
export type { ReleaseKind, Release, MigrationReleases } from '../phases/deploy/releases';
export { parseImageReference } from '../phases/deploy/image-reference';
export type { ImageReference } from '../phases/deploy/image-reference';

// The app side's manifests, for a team's own pod template.
export {
  buildRollout,
  buildAnalysisTemplate,
  buildService,
  rolloutNames,
  argoCanarySteps,
} from '../phases/deploy/rollout-spec';
export type { RolloutSpecArgs, AnalysisTemplateArgs, RolloutNames } from '../phases/deploy/rollout-spec';
export {
  buildRolloutFromTemplate,
  buildRolloutFromWorkload,
  tandemPodTemplate,
  SCALE_DOWN,
} from '../phases/deploy/rollout-template';
export type {
  RolloutFromTemplateArgs,
  RolloutFromWorkloadArgs,
  TandemPodTemplateArgs,
  WorkloadRef,
  ScaleDown,
} from '../phases/deploy/rollout-template';
export { requireAnalysisStep } from '../phases/deploy/rollout-spec';
export { defaultCanarySteps, parseCanarySteps } from '../phases/deploy/canary-steps';
export type { CanaryStep } from '../phases/deploy/canary-steps';

// Configuration and the walker's side check.
export { resolveStackConfig, CONFIG_DEFAULTS } from '../phases/deploy/stack-config';
export type { RawStackConfig, StackConfig } from '../phases/deploy/stack-config';
export { ConfigError } from '../phases/deploy/config-error';
export { classifyResourceSide, COMPONENT_TYPES } from '../phases/deploy/resource-side';
export type { ResourceSide } from '../phases/deploy/resource-side';
export { checkPreview, classifyChanges, PreviewRefusedError } from '../phases/deploy/preview-check';
export { planAccess } from '../phases/sql/access-plan';

// The executor options a TandemMigration passes to its Commands, and the project paths.
export { checkExecutorOptions, executorFlags, EXECUTOR_OPTIONS } from '../phases/deploy/executor-flags';
export type { ExecutorOptionsInput } from '../phases/deploy/executor-flags';
export { ProjectPathError } from '../phases/deploy/project-path';

// Roles a DBA manages elsewhere (manageRoles: false): the read-only check TandemMigration runs.
export { checkRoles } from '../executor/role-check';
export type { RoleCheckOptions, RoleCheckReport } from '../executor/role-check';
export { RoleCheckError } from '../phases/sql/role-check';
export type { RoleProblem } from '../phases/sql/role-check';
export { parseSpec } from '../phases/sql/spec';
export { loadSpecFile } from '../executor/spec-file';
export type { MigrationSpec } from '../phases/sql/spec';
