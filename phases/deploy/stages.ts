/**
 * The stage table: each stage is one stack state, and every adjacent pair differs in exactly one
 * side, schema or app (hard rule 1). Pure data; the Pulumi program, the walker and the docs all
 * read it from here.
 */

export const STAGES = ['baseline', 'expand', 'dual-write', 'cleanup', 'contract'] as const;
export type Stage = (typeof STAGES)[number];

/** Which side of the system a step between two adjacent stages changes. */
export type Side = 'schema' | 'app';

/** The schema state a stage declares: which executor steps have run. */
export type SchemaState = 'original' | 'expanded' | 'contracted';

/** The app version the Rollout runs in a stage (the talk's v1/v2/v3). */
export type AppVersion = 'v1' | 'v2' | 'v3';

export interface StageDefinition {
  readonly stage: Stage;
  readonly schema: SchemaState;
  readonly app: AppVersion;
  /** What the app version does with the columns. */
  readonly appReadsWrites: string;
  /** The side the step INTO this stage changes (undefined for baseline). */
  readonly changes?: Side;
  /** Whether moving back from this stage to the previous one is safe, and why. */
  readonly rollbackToPrevious: { readonly safe: boolean; readonly reason: string };
}

export const STAGE_TABLE: Readonly<Record<Stage, StageDefinition>> = {
  baseline: {
    stage: 'baseline',
    schema: 'original',
    app: 'v1',
    appReadsWrites: 'v1 reads and writes the old columns',
    rollbackToPrevious: { safe: false, reason: 'baseline is the first stage' },
  },
  expand: {
    stage: 'expand',
    schema: 'expanded',
    app: 'v1',
    appReadsWrites: 'v1 reads and writes the old columns; the trigger fills the new ones',
    changes: 'schema',
    rollbackToPrevious: { safe: true, reason: 'rollback drops only what expand added; v1 never used it' },
  },
  'dual-write': {
    stage: 'dual-write',
    schema: 'expanded',
    app: 'v2',
    appReadsWrites: 'v2 canary reads the new columns and writes both sides',
    changes: 'app',
    rollbackToPrevious: { safe: true, reason: 'v1 still has the old columns, kept in sync by v2 and the trigger' },
  },
  cleanup: {
    stage: 'cleanup',
    schema: 'expanded',
    app: 'v3',
    appReadsWrites: 'v3 canary reads and writes the new columns only',
    changes: 'app',
    rollbackToPrevious: { safe: true, reason: 'the trigger keeps the old columns in sync for v2' },
  },
  contract: {
    stage: 'contract',
    schema: 'contracted',
    app: 'v3',
    appReadsWrites: 'v3 reads and writes the new columns; the old ones are gone',
    changes: 'schema',
    rollbackToPrevious: { safe: false, reason: 'contract dropped the old columns, so no earlier app version can run' },
  },
};

export function isStage(value: unknown): value is Stage {
  return typeof value === 'string' && (STAGES as readonly string[]).includes(value);
}

export function stageIndex(stage: Stage): number {
  return STAGES.indexOf(stage);
}

/** The side that changes between two adjacent stages, in either direction. */
export function sideBetween(a: Stage, b: Stage): Side {
  const [lo, hi] = stageIndex(a) < stageIndex(b) ? [a, b] : [b, a];
  if (stageIndex(hi) - stageIndex(lo) !== 1) {
    throw new Error(`stages ${a} and ${b} are not adjacent`);
  }
  return STAGE_TABLE[hi].changes as Side;
}
