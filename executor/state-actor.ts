/**
 * Who ran each migration, recorded in tandem.migrations by the database itself: a BEFORE trigger
 * on the state table stamps every write with the session's login role (session_user, and
 * current_user when it differs after SET ROLE) and the actor the executor announces in the
 * `tandem.actor` setting ($TANDEM_ACTOR, or user@host). It records who started a migration (its
 * expand), who finished it (contract or rollback, with finished_at) and who wrote it last (e.g. the
 * backfill that was interrupted). Added to an existing state table without rewriting it: each
 * statement checks the catalog first, so a database that already has them takes no lock.
 */
import * as os from 'os';
import { Client } from 'pg';
import { PlanStatement } from '../phases/sql/plan';

export const ACTOR_COLUMNS = [
  'started_by',
  'started_db_user',
  'finished_at',
  'finished_by',
  'finished_db_user',
  'last_by',
  'last_db_user',
] as const;

/** Longest actor text kept (the setting is whatever the caller says; it is a label, not a proof). */
export const MAX_ACTOR = 200;

/** Run after STATE_BOOTSTRAP, in the same transaction (expand's). */
export const STATE_ACTOR_BOOTSTRAP: readonly PlanStatement[] = [
  {
    id: 'state-actor-columns',
    sql: `DO $tandem$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                  WHERE attrelid = 'tandem.migrations'::regclass AND attname = 'last_db_user' AND NOT attisdropped) THEN
    ALTER TABLE tandem.migrations
      ADD COLUMN IF NOT EXISTS started_by text,
      ADD COLUMN IF NOT EXISTS started_db_user text,
      ADD COLUMN IF NOT EXISTS finished_at timestamptz,
      ADD COLUMN IF NOT EXISTS finished_by text,
      ADD COLUMN IF NOT EXISTS finished_db_user text,
      ADD COLUMN IF NOT EXISTS last_by text,
      ADD COLUMN IF NOT EXISTS last_db_user text;
  END IF;
END
$tandem$`,
  },
  {
    id: 'state-actor-function',
    sql: `CREATE OR REPLACE FUNCTION tandem.record_actor() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $tandem$
DECLARE
  who text := left(nullif(current_setting('tandem.actor', true), ''), ${MAX_ACTOR});
  db_user text := session_user::text || CASE WHEN current_user <> session_user THEN ' as ' || current_user::text ELSE '' END;
BEGIN
  NEW.last_by := who;
  NEW.last_db_user := db_user;
  -- Who started it: the first expand. A re-expand after a rollback continues the same migration.
  IF TG_OP = 'INSERT' THEN
    NEW.started_by := who;
    NEW.started_db_user := db_user;
  END IF;
  IF TG_OP = 'INSERT' OR (NEW.step = 'expanded' AND OLD.step IS DISTINCT FROM 'expanded') THEN
    NEW.finished_at := NULL;
    NEW.finished_by := NULL;
    NEW.finished_db_user := NULL;
  END IF;
  IF NEW.step IN ('contracted', 'rolled_back') AND (TG_OP = 'INSERT' OR OLD.step IS DISTINCT FROM NEW.step) THEN
    NEW.finished_at := now();
    NEW.finished_by := who;
    NEW.finished_db_user := db_user;
  END IF;
  RETURN NEW;
END
$tandem$`,
  },
  {
    id: 'state-actor-trigger',
    sql: `DO $tandem$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                  WHERE tgrelid = 'tandem.migrations'::regclass AND tgname = 'tandem_record_actor') THEN
    CREATE TRIGGER tandem_record_actor BEFORE INSERT OR UPDATE ON tandem.migrations
      FOR EACH ROW EXECUTE FUNCTION tandem.record_actor();
  END IF;
END
$tandem$`,
  },
];

/** The actor this process announces: $TANDEM_ACTOR, or <os user>@<host>. */
export function actorName(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.TANDEM_ACTOR?.trim();
  if (given) return given.slice(0, MAX_ACTOR);
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    /* no passwd entry (some containers) */
  }
  return `${user}@${os.hostname()}`.slice(0, MAX_ACTOR);
}

/** Announce the actor for this session (a placeholder setting; parameterized, so any text is safe). */
export async function announceActor(client: Client, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await client.query(`SELECT pg_catalog.set_config('tandem.actor', $1, false)`, [actorName(env)]);
}
