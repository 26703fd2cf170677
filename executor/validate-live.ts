import { querySingle } from './connection';
import { Client } from 'pg';
import { SpecError } from '../phases/errors';
import { trialParseSql } from '../phases/sql/plan';
import { MigrationSpec, resolveSpec, ResolvedSpec } from '../phases/sql/spec';
import { openSession, Session, ACTIVE_STEPS } from './session';
import { ExecutorOptions } from './types';
import { checkObjectCatalog, trialObjects } from './object-steps';

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
        await querySingle(client, `PREPARE _tandem_trial_${i} AS ${check.sql}`);
        await client.query(`DEALLOCATE _tandem_trial_${i}`);
      } catch (err: any) {
        throw new SpecError(check.field, `PostgreSQL rejects it: ${err?.message ?? err}`);
      }
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/** Resolve against the live table (or take the resolution recorded at expand) and trial-parse every expression. */
export async function resolveLive(session: Session, spec: MigrationSpec): Promise<ResolvedSpec> {
  if (session.state && ACTIVE_STEPS.includes(session.step)) return session.state.resolved;
  const resolved = resolveSpec(spec, session.table);
  await trialParse(session.client, resolved);
  await checkObjectCatalog(session.client, resolved);
  await trialObjects(session.client, resolved);
  return resolved;
}

/** Check the spec against the live catalog and trial-parse every expression; changes nothing. */
export async function validateLive(spec: MigrationSpec, options: ExecutorOptions): Promise<ResolvedSpec> {
  const session = await openSession(spec, options, false);
  try {
    if (session.step === 'contracted') return session.state!.resolved;
    return await resolveLive(session, spec);
  } finally {
    await session.close();
  }
}
