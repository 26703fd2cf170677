import { Client } from 'pg';
import { CatalogError, RefusedError, SpecError } from '../phases/errors';
import {
  droppedIndexes,
  objectChecks,
  objectContractBlockers,
  objectLiveConditions,
  objectSteps,
  objectTrialPlan,
} from '../phases/sql/plan';
import { quoteIdent, quoteQualified } from '../phases/sql/identifiers';
import { ObjectTask } from '../phases/sql/operations';
import { ResolvedSpec } from '../phases/sql/spec';
import { querySingle } from './connection';
import {
  backoffMs,
  DEFAULT_DDL_DEADLINE_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  runDdlTransaction,
  sleep,
} from './ddl-transaction';
import { LockTimeoutError, StepFailedError } from './errors';
import { ExecutorOptions, OperationVerify } from './types';
import {
  createPartitionedIndex,
  dropPartitionedIndex,
  isPartitionedIndex,
  isPartitionedTable,
} from './partitioned-index';
import { errorCode, errorMessage } from '../phases/error-fields';

const RETRYABLE = new Set(['55P03', '40P01']);

type IndexState = 'valid' | 'invalid' | 'absent';

export async function indexState(client: Client, schema: string, index: string): Promise<IndexState> {
  const r = await client.query<{ valid: boolean }>(
    `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, index],
  );
  if (!r.rows.length) return 'absent';
  return r.rows[0].valid ? 'valid' : 'invalid';
}

/**
 * One statement outside any transaction block (CREATE/DROP INDEX CONCURRENTLY), under the step's
 * lock_timeout and without statement_timeout (a build takes as long as the table needs; it holds
 * only SHARE UPDATE EXCLUSIVE, so writes go on). The session's settings are restored after.
 */
export async function runConcurrently(client: Client, sql: string, options: ExecutorOptions): Promise<void> {
  const lockTimeout = Math.max(1, Math.floor(options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS));
  await client.query(`SET lock_timeout = ${lockTimeout}`);
  await client.query(`SET statement_timeout = 0`);
  try {
    await querySingle(client, sql);
  } finally {
    await client.query('RESET lock_timeout').catch(() => undefined);
    await client.query('RESET statement_timeout').catch(() => undefined);
  }
}

/** Retry a concurrent statement on lock timeouts with backoff and jitter until the deadline. */
export async function withRetries(
  client: Client,
  step: string,
  table: { oid: number; label: string },
  options: ExecutorOptions,
  run: () => Promise<void>,
): Promise<number> {
  const deadline = Date.now() + (options.ddlDeadlineMs ?? DEFAULT_DDL_DEADLINE_MS);
  for (let attempt = 0; ; attempt++) {
    try {
      await run();
      return attempt;
    } catch (err) {
      if (!RETRYABLE.has(String(errorCode(err)))) throw err;
      if (Date.now() >= deadline) throw new LockTimeoutError(table.label, attempt + 1, []);
      const wait = backoffMs(attempt);
      options.onProgress?.({
        kind: 'lock_wait',
        message: `${step}: ${table.label} is busy (attempt ${attempt + 1}); retrying in ${Math.round(wait)} ms`,
      });
      await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
    }
  }
}

export async function dropIndexConcurrently(
  client: Client,
  step: string,
  table: { oid: number; label: string },
  schema: string,
  index: string,
  options: ExecutorOptions,
): Promise<number> {
  return withRetries(client, step, table, options, () =>
    runConcurrently(client, `DROP INDEX CONCURRENTLY IF EXISTS ${quoteQualified(schema, index)}`, options),
  );
}

/**
 * Build an index concurrently, idempotently: a valid index is left alone; an INVALID one (a failed
 * or killed build, or a lock timeout during one) is dropped concurrently and built again. On a
 * failure that retrying cannot fix (duplicates for a unique index), its INVALID leftover is dropped
 * at once, since an INVALID unique index still refuses duplicate writes, and the step fails.
 */
async function createIndexConcurrently(
  client: Client,
  step: string,
  table: { oid: number; label: string },
  s: Extract<ObjectTask, { kind: 'index_build' }>,
  options: ExecutorOptions,
): Promise<{ retries: number; changed: boolean }> {
  if (s.definition !== undefined && (await isPartitionedTable(client, table.oid)))
    return createPartitionedIndex(client, step, table, s, options);
  if ((await indexState(client, s.schema, s.index)) === 'valid') return { retries: 0, changed: false };
  let retries = 0;
  try {
    retries += await withRetries(client, step, table, options, async () => {
      const state = await indexState(client, s.schema, s.index);
      if (state === 'valid') return;
      if (state === 'invalid') {
        options.onProgress?.({
          kind: 'info',
          message: `${step}: index ${s.index} is INVALID (a build failed or was killed); dropping it concurrently to build it again`,
        });
        retries += await dropIndexConcurrently(client, step, table, s.schema, s.index, options);
      }
      options.onProgress?.({ kind: 'step', message: `${step}: building index ${s.index} concurrently` });
      await runConcurrently(client, s.sql, options);
    });
  } catch (err) {
    if ((await indexState(client, s.schema, s.index).catch(() => 'absent')) === 'invalid') {
      await dropIndexConcurrently(client, step, table, s.schema, s.index, options);
    }
    if (err instanceof LockTimeoutError) throw err;
    const code = errorCode(err);
    if (code === '23505' && s.hint)
      throw new RefusedError(`${step} refused: index ${s.index} cannot be built: ${s.hint} (${errorMessage(err)})`);
    if (typeof code === 'string')
      throw new StepFailedError(step, s.id, `${errorMessage(err)}; the INVALID index it left was dropped`, code);
    throw err;
  }
  return { retries, changed: true };
}

/** Run object steps in order, each idempotent: a re-run after a failure or a kill resumes where it stopped. */
export async function runObjectSteps(
  client: Client,
  step: string,
  table: { oid: number; label: string },
  steps: readonly ObjectTask[],
  options: ExecutorOptions,
): Promise<{ retries: number; changed: boolean }> {
  let retries = 0;
  let changed = false;
  for (const s of steps) {
    if (s.kind === 'index_build') {
      const r = await createIndexConcurrently(client, step, table, s, options);
      retries += r.retries;
      changed ||= r.changed;
    } else if (s.kind === 'index_drop') {
      if (s.created && (await isPartitionedTable(client, table.oid))) {
        // The spec's own index on a partitioned table, with what a killed build left unattached.
        const present = (await indexState(client, s.schema, s.index)) !== 'absent';
        retries += await dropPartitionedIndex(client, step, table, s.schema, s.index, options, { created: true });
        changed ||= present;
        continue;
      }
      if ((await indexState(client, s.schema, s.index)) === 'absent') continue;
      if (await isPartitionedIndex(client, s.schema, s.index))
        retries += await dropPartitionedIndex(client, step, table, s.schema, s.index, options);
      else retries += await dropIndexConcurrently(client, step, table, s.schema, s.index, options);
      changed = true;
    } else {
      if (s.unless && ((await client.query(s.unless)).rowCount ?? 0) > 0) continue;
      try {
        retries += (
          await runDdlTransaction(client, step, table, [{ id: s.id, sql: s.sql }], options, undefined, {
            boundStatements: !s.scans,
          })
        ).retries;
        changed = true;
      } catch (err) {
        if (s.onDataError && err instanceof StepFailedError && err.pgCode?.startsWith('23')) {
          await runDdlTransaction(client, step, table, [{ id: `undo-${s.id}`, sql: s.onDataError.undo }], options);
          throw new RefusedError(`${step} refused at ${s.id}: ${s.onDataError.hint} (${err.pgMessage})`);
        }
        throw err;
      }
    }
  }
  return { retries, changed };
}

/**
 * What contract's `beforeContract` steps enforce that is in the catalog now (a unique index,
 * valid or not; a constraint): before contract commits, none of it should be, since an old
 * version may still write. Named for status and for a contract that could not undo them.
 */
export async function enforcedBeforeContract(client: Client, resolved: ResolvedSpec): Promise<string[]> {
  const out: string[] = [];
  for (const s of objectSteps(resolved, 'beforeContract')) {
    if (s.kind === 'index_build' && (await indexState(client, s.schema, s.index)) !== 'absent')
      out.push(`unique index ${s.schema}.${s.index}`);
    if (s.kind === 'transaction' && s.undo && s.unless && ((await client.query(s.unless)).rowCount ?? 0) > 0)
      out.push(`constraint of ${s.id.replace(/^add-/, '')}`);
  }
  return out;
}

/** Before expand: names the spec creates are free, objects it drops or references exist (CatalogError, exit 2). */
export async function checkObjectCatalog(client: Client, resolved: ResolvedSpec): Promise<void> {
  for (const c of objectLiveConditions(resolved)) {
    const r = await client.query(c.sql);
    if (r.rows.length) throw new CatalogError(c.field, c.objectName, c.message);
  }
}

/**
 * Create each index, check and default for real on an empty temporary copy of the table, in a
 * transaction that is always rolled back: a bad expression, a non-IMMUTABLE function in an index,
 * an unknown method or type fails validate (exit 2) and never reaches a concurrent build.
 */
export async function trialObjects(client: Client, resolved: ResolvedSpec): Promise<void> {
  const plan = objectTrialPlan(resolved);
  if (!plan.length) return;
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL statement_timeout = 5000`);
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, DEFAULT_LOCK_TIMEOUT_MS)}`);
    for (const s of plan) {
      try {
        await querySingle(client, s.sql);
      } catch (err) {
        throw new SpecError(s.field, `PostgreSQL rejects it: ${errorMessage(err)}`);
      }
    }
    // An index or check on a column the spec drops would go with it at contract: refuse it now.
    const dropped = resolved.mappings.flatMap((m) => m.oldColumns);
    const on = await client.query<{ column: string; object: string }>(
      `SELECT a.attname AS column, pg_describe_object(d.classid, d.objid, 0) AS object
         FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = $1::regclass AND a.attname = ANY($2::text[])
          AND d.deptype IN ('a', 'n') AND d.classid <> 'pg_attrdef'::regclass
        ORDER BY 1, 2 LIMIT 1`,
      [`pg_temp.${quoteIdent(resolved.table.name)}`, dropped],
    );
    if (on.rows.length) {
      const { column, object } = on.rows[0];
      throw new CatalogError(
        'operations',
        column,
        `${object.replace(/_tandem_trial_/, '')} would depend on column "${column}", which this spec drops at contract`,
      );
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/** Verify's object checks, inside the caller's snapshot: one entry per check, like an operation's inconsistent rows. */
export async function runObjectChecks(client: Client, resolved: ResolvedSpec): Promise<OperationVerify[]> {
  const out: OperationVerify[] = [];
  for (const check of objectChecks(resolved)) {
    // A condition that raises on some row's values is reported, not a failure of verify (savepoint: the snapshot stays).
    await client.query('SAVEPOINT _tandem_check');
    let row: { n: string | number; sample: string[] | null };
    try {
      row = (await querySingle(client, check.sql)).rows[0];
      await client.query('RELEASE SAVEPOINT _tandem_check');
    } catch (err) {
      const code = errorCode(err);
      if (typeof code !== 'string' || code.startsWith('08') || code.startsWith('57')) throw err;
      await client.query('ROLLBACK TO SAVEPOINT _tandem_check');
      out.push({
        operation: check.label,
        inconsistentRows: 0,
        sampleKeys: [],
        error: errorMessage(err),
        fix: check.fix,
        counts: check.counts,
      });
      continue;
    }
    out.push({
      operation: check.label,
      inconsistentRows: Number(row.n),
      sampleKeys: (row.sample ?? []).map((s: string) => parseKey(s)),
      fix: check.fix,
      counts: check.counts,
    });
  }
  return out;
}

function parseKey(s: string): string {
  try {
    const k = JSON.parse(s);
    return Array.isArray(k) && k.length === 1 ? String(k[0]) : Array.isArray(k) ? JSON.stringify(k) : s;
  } catch {
    return s;
  }
}

/** Contract refuses while something outside the spec depends on what it drops (a foreign key into a dropped table, a view). */
export async function checkContractBlockers(client: Client, resolved: ResolvedSpec): Promise<void> {
  for (const c of objectContractBlockers(resolved)) {
    const r = await client.query<{ what: string }>(c.sql);
    if (r.rows.length)
      throw new RefusedError(
        `${c.message}: ${r.rows.map((x) => x.what).join(', ')}; drop or change them first`,
        resolved.spec.name,
      );
  }
}

/** The dependents contract's column check may ignore: the indexes the spec itself drops at contract. */
export async function droppedIndexDescriptions(client: Client, resolved: ResolvedSpec): Promise<Set<string>> {
  const names = droppedIndexes(resolved);
  if (!names.length) return new Set();
  const r = await client.query<{ d: string }>(
    `SELECT pg_describe_object('pg_class'::regclass, c.oid, 0) AS d FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname || '.' || c.relname = ANY($1::text[])`,
    [names],
  );
  return new Set(r.rows.map((x) => x.d));
}
