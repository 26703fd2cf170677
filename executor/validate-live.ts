import { querySingle } from './connection';
import { Client } from 'pg';
import { SpecError } from '../phases/errors';
import { trialParseSql } from '../phases/sql/plan';
import { mappingFacts } from '../phases/sql/operations';
import { MigrationSpec, resolveSpec, ResolvedSpec } from '../phases/sql/spec';
import { TableRewriteError } from './errors';
import { checkRecordedMigration, resolveForExpand, runExpandTransaction } from './expand';
import { openSession, Session, ACTIVE_STEPS } from './session';
import { ExecutorOptions, MigrationProgress } from './types';
import { checkObjectCatalog, trialObjects } from './object-steps';
import { checkDroppedTablesIdle, checkTableNotDropped } from './state';
import { checkReplication } from './replication-check';
import { withCarriedObjects } from './carried-objects';
import { errorMessage } from '../phases/error-fields';

/**
 * PREPARE parses and analyses a statement against the live catalog without planning or running
 * it; sent over the extended protocol it must be exactly one statement. Inside a transaction
 * that is always rolled back.
 */
export async function trialParse(client: Client, resolved: ResolvedSpec): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL statement_timeout = 5000`);
    for (const [i, check] of trialParseSql(resolved).entries()) {
      try {
        if (check.execute) {
          await client.query('SAVEPOINT _tandem_trial');
          await querySingle(client, check.sql);
          await client.query('RELEASE SAVEPOINT _tandem_trial');
        } else {
          await querySingle(client, `PREPARE _tandem_trial_${i} AS ${check.sql}`);
          await client.query(`DEALLOCATE _tandem_trial_${i}`);
        }
      } catch (err) {
        throw new SpecError(
          check.field,
          `${check.about ? `${check.about}; ` : ''}PostgreSQL rejects it: ${errorMessage(err)}`,
        );
      }
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/**
 * Each new column's type must be exactly one type name (`$1::regtype` refuses `text unique`,
 * `integer primary key`, ... which would build an index or scan under ACCESS EXCLUSIVE), and not
 * one that makes ADD COLUMN rewrite the table: a domain with a CHECK or NOT NULL constraint, its
 * own or a base domain's (PostgreSQL then checks every existing row, rewriting the table), or
 * with a default (evaluated for every existing row). Arrays and composites of such domains are
 * fine: a NULL array or row is not checked. Refused before any lock is taken.
 */
export async function checkColumnTypes(client: Client, resolved: ResolvedSpec): Promise<void> {
  for (const [m, c] of resolved.mappings.flatMap((m) => m.newColumns.map((c) => [m, c] as const))) {
    let chain;
    try {
      chain = await client.query<{
        name: string;
        base: string;
        not_null: boolean;
        dflt: string | null;
        checks: string[] | null;
        kind: string;
      }>(
        `WITH RECURSIVE chain AS (
           SELECT t.oid, t.typtype, t.typbasetype, 0 AS depth FROM pg_type t WHERE t.oid = $1::text::regtype
           UNION ALL
           SELECT b.oid, b.typtype, b.typbasetype, chain.depth + 1 FROM chain JOIN pg_type b ON b.oid = chain.typbasetype WHERE chain.typtype = 'd'
         )
         SELECT format_type(t.oid, NULL) AS name, format_type(t.typbasetype, t.typtypmod) AS base, t.typnotnull AS not_null, t.typdefault AS dflt, t.typtype AS kind,
                (SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint WHERE contypid = t.oid AND contype = 'c') AS checks
           FROM chain JOIN pg_type t ON t.oid = chain.oid WHERE chain.typtype = 'd' ORDER BY chain.depth`,
        [c.type],
      );
    } catch (err) {
      throw new SpecError(
        `${c.field}.type`,
        `"${c.type}" is not exactly one type name PostgreSQL knows: ${errorMessage(err)}`,
      );
    }
    const why: string[] = [];
    for (const d of chain.rows) {
      if (d.not_null) why.push(`domain ${d.name} is NOT NULL`);
      for (const k of d.checks ?? []) why.push(`domain ${d.name} has CHECK constraint ${k}`);
      if (d.dflt !== null) why.push(`domain ${d.name} has a default (${d.dflt}), evaluated for every existing row`);
    }
    if (why.length) {
      const base = chain.rows[chain.rows.length - 1].base;
      throw new TableRewriteError(
        c.name,
        c.type,
        `${c.field}: column "${c.name}" of type ${c.type} would make ADD COLUMN rewrite ${resolved.table.schema}.${resolved.table.name} under ACCESS EXCLUSIVE (${why.join('; ')}); ` +
          (mappingFacts(m).sameTypeAdvice?.(base) ??
            `declare it as the base type ${base} instead and enforce the domain's rules with a CHECK constraint added NOT VALID and validated later`),
      );
    }
  }
}

/**
 * Resolve against the live table (or take the resolution recorded at expand), check the new
 * columns' types, trial-parse every expression and refuse what would break logical replication.
 */
export async function resolveLive(session: Session, spec: MigrationSpec): Promise<ResolvedSpec> {
  if (session.state && ACTIVE_STEPS.includes(session.step)) return session.state.resolved;
  // Indexes and constraints on the columns it replaces follow them (carried-objects.ts).
  const resolved = await withCarriedObjects(session.client, resolveSpec(spec, session.table));
  await checkColumnTypes(session.client, resolved);
  await trialParse(session.client, resolved);
  await checkObjectCatalog(session.client, resolved);
  await checkDroppedTablesIdle(session.client, resolved);
  await checkTableNotDropped(session.client, resolved);
  await trialObjects(session.client, resolved);
  await checkReplication(session.client, resolved, session.label);
  return resolved;
}

/**
 * Check the spec against the live catalog, then run expand's own transaction (columns, function,
 * trigger, probes, state row) and roll it back: validate passes only what expand would take, and
 * changes nothing. Like expand it takes the table's ACCESS EXCLUSIVE lock for a moment, under
 * lock_timeout and the server-side hold bounds.
 */
export async function validateLive(spec: MigrationSpec, options: ExecutorOptions): Promise<ResolvedSpec> {
  return (await validateLiveReport(spec, options)).resolved;
}

export interface LiveValidation {
  readonly resolved: ResolvedSpec;
  /** The step the database records for this migration, when expand would not run its transaction (already expanded or contracted). */
  readonly recordedStep: MigrationProgress | null;
}

/**
 * validateLive, saying whether expand's transaction ran: every check expand makes first (the
 * recorded migration: a contracted name reused, a table changed by hand; the live catalog), then,
 * when expand would run it, its transaction, rolled back.
 */
export async function validateLiveReport(spec: MigrationSpec, options: ExecutorOptions): Promise<LiveValidation> {
  const session = await openSession(spec, options, { privileges: true });
  try {
    await checkRecordedMigration(session, spec);
    if (session.step === 'contracted' || (session.state && ACTIVE_STEPS.includes(session.step))) {
      return { resolved: session.state!.resolved, recordedStep: session.step };
    }
    const resolved = await resolveForExpand(session, spec);
    await runExpandTransaction(session, resolved, options, { rollback: true });
    return { resolved, recordedStep: null };
  } finally {
    await session.close();
  }
}
