import { randomBytes } from 'crypto';
import { Pool } from 'pg';
import { RefusedError } from '../phases/errors';
import { quoteIdent, quoteQualified } from '../phases/sql/identifiers';
import { derivedNames } from '../phases/sql/plan';
import { MigrationSpec } from '../phases/sql/spec';
import { ReleaseKind, dropAppRole } from './demo-database';
import { PostgresBinariesMissingError, startScratchPostgres } from './scratch-postgres';
import { errorCode } from '../phases/error-fields';

/** Where a rehearsal runs, and how it cleans up after itself. */
export interface RehearsalDatabase {
  /** `scratch`: a server started for this run and removed after; `given`: the user's --database-url. */
  readonly kind: 'scratch' | 'given';
  /** The owner's (migrator's) URL: the executor and the checker connect with it. */
  readonly url: string;
  readonly pool: Pool;
  /** Create the app role with `create`; undefined when the user may not create roles. */
  createAppRole(create: (name: string) => Promise<ReleaseKind>): Promise<ReleaseKind | undefined>;
  close(keep: boolean): Promise<void>;
}

const INSUFFICIENT_PRIVILEGE = '42501';

function openPool(url: string): Pool {
  const pool = new Pool({ connectionString: url, max: 3 });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * The default: a throwaway server from the local PostgreSQL binaries. With --database-url, the
 * user's scratch database, where the rehearsal refuses to start if the spec's table or migration
 * already exists (it never touches data it did not create) and removes what it created at the end.
 */
export async function openRehearsalDatabase(
  spec: MigrationSpec,
  databaseUrl: string | undefined,
  emit: (e: { kind: 'info'; message: string }) => void,
  options: { empty?: boolean } = {},
): Promise<RehearsalDatabase> {
  if (!databaseUrl) return openScratch(emit);
  return options.empty ? openGivenEmpty(spec, databaseUrl) : openGiven(spec, databaseUrl);
}

/** What a database holds of its users' own: anything here makes it not empty. */
const OWN_OBJECTS = `
  SELECT 'schema ' || nspname AS what FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
  UNION ALL SELECT 'relation ' || c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  UNION ALL SELECT 'type ' || t.oid::regtype::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' AND t.typrelid = 0 AND t.typelem = 0
  UNION ALL SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  UNION ALL SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'`;

/**
 * --database-url for any spec: the rehearsal creates the spec's table and whatever its schema
 * needs (schemas, types, parent tables, functions, roles), so it asks for an EMPTY database of its
 * own and refuses any other; at the end it drops every object and every role it created, leaving
 * the database as empty as it found it (unless --keep).
 */
async function openGivenEmpty(spec: MigrationSpec, url: string): Promise<RehearsalDatabase> {
  const pool = openPool(url);
  let rolesBefore: Set<string>;
  try {
    const { rows } = await pool.query(`${OWN_OBJECTS} LIMIT 3`);
    if (rows.length) {
      throw new RefusedError(
        `that database is not empty (it has ${rows.map((r) => r.what).join(', ')}); tandem rehearse ${spec.name} creates its own tables there and removes everything afterwards, so it needs an empty database of its own: CREATE DATABASE one for it`,
        spec.name,
      );
    }
    rolesBefore = new Set((await pool.query(`SELECT rolname FROM pg_roles`)).rows.map((r) => r.rolname as string));
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return {
    kind: 'given',
    url,
    pool,
    createAppRole: async (create) => {
      try {
        return await create(`tandem_rehearsal_app_${randomBytes(4).toString('hex')}`);
      } catch (err) {
        if (errorCode(err) === INSUFFICIENT_PRIVILEGE) return undefined;
        throw err;
      }
    },
    close: async (keep) => {
      try {
        if (!keep) await emptyAgain(pool, rolesBefore);
      } finally {
        await pool.end().catch(() => undefined);
      }
    },
  };
}

/** Drop everything the rehearsal created in a database that was empty: its schemas, public's objects, extensions, and the roles it added. */
async function emptyAgain(pool: Pool, rolesBefore: ReadonlySet<string>): Promise<void> {
  const roles = (await pool.query(`SELECT rolname FROM pg_roles`)).rows
    .map((r) => r.rolname as string)
    .filter((r) => !rolesBefore.has(r));
  for (const r of roles) await pool.query(`DROP OWNED BY ${quoteIdent(r)}`);
  await pool.query(`DO $e$ DECLARE r record; BEGIN
      FOR r IN SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' LOOP EXECUTE format('DROP EXTENSION IF EXISTS %I CASCADE', r.extname); END LOOP;
      FOR r IN SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%' LOOP EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', r.nspname); END LOOP;
      FOR r IN SELECT c.oid::regclass AS o, c.relkind FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f') LOOP
        EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.o); END LOOP;
      FOR r IN SELECT c.oid::regclass AS o FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S' LOOP EXECUTE format('DROP SEQUENCE IF EXISTS %s CASCADE', r.o); END LOOP;
      FOR r IN SELECT p.oid::regprocedure AS o, p.prokind FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace LOOP
        EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.o); END LOOP;
      FOR r IN SELECT t.oid::regtype AS o FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace AND t.typrelid = 0 AND t.typelem = 0 LOOP EXECUTE format('DROP TYPE IF EXISTS %s CASCADE', r.o); END LOOP;
    END $e$`);
  for (const r of roles) await pool.query(`DROP ROLE IF EXISTS ${quoteIdent(r)}`);
}

async function openScratch(emit: (e: { kind: 'info'; message: string }) => void): Promise<RehearsalDatabase> {
  let server;
  try {
    server = await startScratchPostgres();
  } catch (err) {
    if (err instanceof PostgresBinariesMissingError) {
      throw Object.assign(
        new Error(`${err.message} Or give tandem rehearse an empty scratch database with --database-url.`),
        { exitCode: 1 },
      );
    }
    throw err;
  }
  emit({ kind: 'info', message: `started a scratch PostgreSQL on port ${server.port}` });
  const pool = openPool(server.url);
  const s = server;
  // Interrupted (Ctrl-C), the server is still removed: its stop is synchronous underneath.
  const interrupted = (signal: NodeJS.Signals) => {
    void s.stop().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  return {
    kind: 'scratch',
    url: server.url,
    pool,
    createAppRole: (create) => create('customers_app'),
    close: async () => {
      process.removeListener('SIGINT', interrupted);
      process.removeListener('SIGTERM', interrupted);
      await pool.end().catch(() => undefined);
      await s.stop();
    },
  };
}

async function openGiven(spec: MigrationSpec, url: string): Promise<RehearsalDatabase> {
  const pool = openPool(url);
  try {
    const { rows } = await pool.query(
      `SELECT to_regclass($1) IS NOT NULL AS has_table,
              to_regclass('tandem.migrations') IS NOT NULL AS has_state`,
      [quoteIdent(spec.table)],
    );
    if (rows[0].has_table) {
      throw new RefusedError(
        `table ${spec.table} already exists in that database; tandem rehearse creates its own ${spec.table} table and never touches existing data: give it an empty scratch database`,
        spec.name,
      );
    }
    if (rows[0].has_state) {
      const recorded = await pool.query(`SELECT step FROM tandem.migrations WHERE name = $1`, [spec.name]);
      if (recorded.rows.length) {
        throw new RefusedError(
          `that database already records a migration named ${spec.name} (step ${recorded.rows[0].step}); give tandem rehearse an empty scratch database`,
          spec.name,
        );
      }
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  let role: ReleaseKind | undefined;
  return {
    kind: 'given',
    url,
    pool,
    createAppRole: async (create) => {
      try {
        role = await create(`tandem_rehearsal_app_${randomBytes(4).toString('hex')}`);
        return role;
      } catch (err) {
        if (errorCode(err) === INSUFFICIENT_PRIVILEGE) return undefined;
        throw err;
      }
    },
    close: async (keep) => {
      try {
        if (!keep) await removeRehearsal(pool, spec);
        if (role && !keep) await dropAppRole(pool, role.name);
      } finally {
        await pool.end().catch(() => undefined);
      }
    },
  };
}

/** Remove exactly what the rehearsal created: its table, its migration record and sync function. */
async function removeRehearsal(pool: Pool, spec: MigrationSpec): Promise<void> {
  const state = await pool.query(`SELECT to_regclass('tandem.migrations') IS NOT NULL AS ok`);
  if (state.rows[0].ok) {
    const recorded = await pool.query(`SELECT resolved FROM tandem.migrations WHERE name = $1`, [spec.name]);
    if (recorded.rows[0]) {
      const names = derivedNames(recorded.rows[0].resolved);
      await pool.query(`DROP TABLE IF EXISTS ${quoteIdent(spec.table)}`);
      await pool.query(`DROP FUNCTION IF EXISTS ${quoteQualified(names.functionSchema, names.function)}()`);
      await pool.query(`DELETE FROM tandem.migrations WHERE name = $1`, [spec.name]);
      return;
    }
  }
  await pool.query(`DROP TABLE IF EXISTS ${quoteIdent(spec.table)}`);
}
