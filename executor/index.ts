/** The executor's library API: the CLI, the rehearsal and the walker's gates all call these. */
export * from './types';
export { expand } from './expand';
export { backfill } from './backfill';
export { verify } from './verify';
export { contract } from './contract';
export { rollback } from './rollback';
export { repair } from './repair';
export { status } from './status';
export { validateLive } from './validate-live';
export { planStepSql } from './plan-step-sql';
export { history } from './history';
export type { HistoryReport, MigrationHistoryEntry, ActorRecord } from './history';
