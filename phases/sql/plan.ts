/**
 * SQL plans per step, as data. Pure: no connections. The executor runs each plan's statements in
 * one transaction under a short lock_timeout, retried with backoff. One file per step in plans/.
 */
export * from './plans/plan-names';
export * from './plans/expand-sql';
export * from './plans/sync-function';
export * from './plans/backfill-sql';
export * from './plans/verify-sql';
export * from './plans/contract-sql';
export * from './plans/object-ops-sql';
export * from './plans/evaluation-settings';
export * from './plans/carried-sql';
