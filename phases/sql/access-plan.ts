/**
 * The privilege model (hard rule 2: the app can never ALTER TABLE), as data. DatabaseAccess maps it
 * onto @pulumi/postgresql resources; access-sql.ts renders the same plan as SQL so the tests prove it
 * on a real PostgreSQL.
 *
 * The migrator is the role in `tandem:databaseUrl`: the database team's role, which created and
 * owns the tables (ALTER TABLE needs ownership, which PostgreSQL cannot grant) and has CREATEROLE.
 * The postgresql provider connects as the migrator, so the migrator is not created here; the plan
 * records it as the owner whose future objects the app gets default privileges on.
 * The app role logs in with a password, owns nothing and gets DML only: no CREATE on the schema,
 * no TRUNCATE, no REFERENCES, no TRIGGER.
 * The verify role (the canary analysis Job's login) is read-only: SELECT on the migrating table and
 * on the tables of the `tandem` state schema, USAGE on the two schemas, nothing else. The state
 * schema is declared here (owned by the migrator, kept on delete) so its grants exist before the
 * first expand creates its table; default privileges cover the tables the migrator adds to it later.
 */
import { ConfigError } from '../deploy/config-error';
import { MAX_IDENTIFIER_BYTES } from './identifiers';

export type AccessObjectType = 'schema' | 'table' | 'sequence';

export interface AccessPlanArgs {
  /** The schema the tables live in (default `public`). */
  readonly schema: string;
  /** The role that owns the tables and runs the tandem steps. */
  readonly migratorRole: string;
  /** The role the app logs in as. */
  readonly appRole: string;
  /** The read-only role the verify Job logs in as, and the table it reads; absent: no verify role. */
  readonly verify?: { readonly role: string; readonly table: string };
}

/** The schema the executor keeps its state in (executor/state.ts creates it too, if absent). */
export const STATE_SCHEMA = 'tandem';

/** A schema the plan makes sure exists, owned by `owner`; never dropped by a delete. */
export interface SchemaPlan {
  readonly name: string;
  readonly owner: string;
}

export interface RolePlan {
  readonly name: string;
  readonly login: boolean;
  readonly superuser: false;
  readonly createDatabase: false;
  readonly createRole: false;
  /** Role memberships: none, so the app inherits no owner's rights. */
  readonly roles: readonly string[];
}

/** One GRANT: `objects` empty means every object of the type in the schema. */
export interface GrantPlan {
  readonly role: string;
  readonly objectType: AccessObjectType;
  readonly schema: string;
  readonly objects: readonly string[];
  readonly privileges: readonly string[];
}

/** ALTER DEFAULT PRIVILEGES FOR ROLE owner IN SCHEMA schema GRANT privileges ON objectType TO role. */
export interface DefaultPrivilegePlan {
  readonly role: string;
  readonly owner: string;
  readonly objectType: Exclude<AccessObjectType, 'schema'>;
  readonly schema: string;
  readonly privileges: readonly string[];
}

/** Roles and privileges in one schema; the database is wherever the migrator's connection points. */
export interface AccessPlan {
  readonly schema: string;
  /** Owns the schema's tables; pre-existing, the identity in tandem:databaseUrl. */
  readonly migrator: string;
  /** Schemas the plan declares (the state schema, when there is a verify role). */
  readonly schemas: readonly SchemaPlan[];
  /** Roles the plan creates: the app role, and the verify role when asked for. */
  readonly roles: readonly RolePlan[];
  readonly grants: readonly GrantPlan[];
  readonly defaultPrivileges: readonly DefaultPrivilegePlan[];
}

/** What the app may do: read and write rows, nothing else. */
export const APP_TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;
/** nextval()/currval() for serial keys. */
export const APP_SEQUENCE_PRIVILEGES = ['USAGE', 'SELECT'] as const;
/** Resolve names in the schema; no CREATE. */
export const APP_SCHEMA_PRIVILEGES = ['USAGE'] as const;
/** The verify role reads; it never writes. */
export const VERIFY_TABLE_PRIVILEGES = ['SELECT'] as const;

function checkRoleName(key: string, name: string): void {
  if (name.length === 0) throw new ConfigError(key, 'must be a non-empty role name');
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new ConfigError(key, `"${name}" is longer than ${MAX_IDENTIFIER_BYTES} bytes`);
  }
  if (name.toLowerCase() === 'public' || name.toLowerCase().startsWith('pg_')) {
    throw new ConfigError(key, `"${name}" is reserved by PostgreSQL`);
  }
}

export function planAccess(args: AccessPlanArgs): AccessPlan {
  checkRoleName('appRole', args.appRole);
  checkRoleName('migratorRole', args.migratorRole);
  if (args.appRole === args.migratorRole) {
    throw new ConfigError(
      'appRole',
      `"${args.appRole}" is the migrator role too; the app must log in as a role that owns nothing`,
    );
  }
  const { schema, appRole: app, migratorRole: migrator } = args;
  const login = (name: string): RolePlan => ({
    name,
    login: true,
    superuser: false,
    createDatabase: false,
    createRole: false,
    roles: [],
  });
  const plan = {
    schema,
    migrator,
    schemas: [] as SchemaPlan[],
    roles: [login(app)],
    grants: [
      { role: app, objectType: 'schema', schema, objects: [], privileges: [...APP_SCHEMA_PRIVILEGES] },
      { role: app, objectType: 'table', schema, objects: [], privileges: [...APP_TABLE_PRIVILEGES] },
      { role: app, objectType: 'sequence', schema, objects: [], privileges: [...APP_SEQUENCE_PRIVILEGES] },
    ] as GrantPlan[],
    defaultPrivileges: [
      { role: app, owner: migrator, objectType: 'table', schema, privileges: [...APP_TABLE_PRIVILEGES] },
      { role: app, owner: migrator, objectType: 'sequence', schema, privileges: [...APP_SEQUENCE_PRIVILEGES] },
    ] as DefaultPrivilegePlan[],
  };
  if (args.verify) {
    const verify = args.verify.role;
    checkRoleName('verifyRole', verify);
    if (verify === migrator || verify === app) {
      throw new ConfigError(
        'verifyRole',
        `"${verify}" is the ${verify === app ? 'app' : 'migrator'} role too; verify must log in as a read-only role of its own`,
      );
    }
    if (schema === STATE_SCHEMA)
      throw new ConfigError(
        'dbSchema',
        `"${STATE_SCHEMA}" is Tandem's state schema; the app's tables must live in another`,
      );
    plan.schemas.push({ name: STATE_SCHEMA, owner: migrator });
    plan.roles.push(login(verify));
    plan.grants.push(
      { role: verify, objectType: 'schema', schema, objects: [], privileges: [...APP_SCHEMA_PRIVILEGES] },
      // A spec without a table of its own (object operations only: docs/spec-table.md) has none to grant (objects: [] would mean every table).
      ...(args.verify.table === ''
        ? []
        : [
            {
              role: verify,
              objectType: 'table' as const,
              schema,
              objects: [args.verify.table],
              privileges: [...VERIFY_TABLE_PRIVILEGES],
            },
          ]),
      { role: verify, objectType: 'schema', schema: STATE_SCHEMA, objects: [], privileges: [...APP_SCHEMA_PRIVILEGES] },
      {
        role: verify,
        objectType: 'table',
        schema: STATE_SCHEMA,
        objects: [],
        privileges: [...VERIFY_TABLE_PRIVILEGES],
      },
    );
    plan.defaultPrivileges.push({
      role: verify,
      owner: migrator,
      objectType: 'table',
      schema: STATE_SCHEMA,
      privileges: [...VERIFY_TABLE_PRIVILEGES],
    });
  }
  return plan;
}
