/**
 * What one stack state declares, as data: the schema side (which tandem steps exist as Commands)
 * and the app side (which app version the Rollout runs). The Pulumi components only map this data
 * onto resources, so the stage table in phases/deploy/stages.ts is visible in one place.
 */
import { AppVersion, SchemaState, Stage, STAGE_TABLE } from './stages';

/** The tandem executor steps that a SchemaChange declares as Commands. */
export type SchemaCommandStep = 'expand' | 'backfill' | 'verify' | 'contract';

/**
 * Each schema state keeps every Command of the states before it, unchanged: Pulumi deletes what a
 * stack state stops declaring, and the expand Command's delete is a rollback (docs/architecture.md,
 * "The Command lifecycle"). So the lists only ever grow from one schema state to the next.
 */
export const SCHEMA_COMMANDS: Readonly<Record<SchemaState, readonly SchemaCommandStep[]>> = {
  original: [],
  expanded: ['expand', 'backfill'],
  contracted: ['expand', 'backfill', 'verify', 'contract'],
};

export interface StackState {
  readonly stage: Stage;
  readonly schema: {
    readonly state: SchemaState;
    readonly commands: readonly SchemaCommandStep[];
  };
  readonly app: {
    readonly version: AppVersion;
    /** The image tag the Rollout runs: the app version itself (`v1`, `v2`, `v3`). */
    readonly imageTag: string;
  };
}

export function planStackState(stage: Stage): StackState {
  const row = STAGE_TABLE[stage];
  return {
    stage,
    schema: { state: row.schema, commands: SCHEMA_COMMANDS[row.schema] },
    app: { version: row.app, imageTag: row.app },
  };
}
