/**
 * The roles a DBA manages outside Tandem (`tandem:manageRoles: false`), checked against what
 * access-plan.ts would have granted: the app role has DML on the table and nothing that changes the
 * schema; the verify role only reads the table and the state schema. Pure: the catalog facts come
 * in as data (executor/role-check.ts reads them), the problems go out as data.
 */
import { RefusedError } from '../errors';
import { STATE_SCHEMA } from './access-plan';

export type CheckedRole = 'app' | 'verify';

/** What the catalog says about one role, for the migrating table `schema.table`. */
export interface RoleFacts {
  readonly role: string;
  readonly exists: boolean;
  readonly canLogin: boolean;
  /** superuser, createdb, createrole, bypassrls: attributes that reach past any grant. */
  readonly attributes: readonly string[];
  /** Privileges on the table (SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER). */
  readonly tablePrivileges: readonly string[];
  readonly schemaUsage: boolean;
  readonly schemaCreate: boolean;
  readonly databaseCreate: boolean;
  /** Member of the table's owner (directly or not): it can act as the owner, so ALTER TABLE. */
  readonly memberOfOwner: boolean;
  /** Objects it owns, in any database (pg_shdepend), and a few of them described. */
  readonly ownedCount: number;
  readonly ownedSample: readonly string[];
  /** The table's sequences (serial, identity) it lacks USAGE on. */
  readonly sequencesWithoutUsage: readonly string[];
  /** The state schema, when it exists; null when it does not. */
  readonly state: null | {
    readonly usage: boolean;
    readonly create: boolean;
    /** State tables it cannot SELECT, and state tables it can write. */
    readonly unreadableTables: readonly string[];
    readonly writableTables: readonly string[];
    readonly hasTables: boolean;
    /** Whether tables the migrator creates there later will be readable (a default privilege). */
    readonly futureTablesReadable: boolean;
  };
}

export interface RoleProblem {
  readonly kind: CheckedRole;
  readonly role: string;
  /** A stable code for scripts, e.g. `missing`, `no-dml`, `can-create`, `owns-objects`. */
  readonly code: string;
  readonly message: string;
}

/** The check failed: exit 1, nothing ran. Carries every problem found, not just the first. */
export class RoleCheckError extends RefusedError {
  readonly kind = 'role_check';
  constructor(readonly problems: readonly RoleProblem[]) {
    super(`the database roles are not ready for Tandem: ${problems.map((p) => p.message).join('; ')}`);
    this.name = 'RoleCheckError';
  }
}

export const APP_DML = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;
/** Table privileges the app must not have: they change the table or what it refers to. */
export const APP_FORBIDDEN = ['TRUNCATE', 'REFERENCES', 'TRIGGER'] as const;
export const WRITE_PRIVILEGES = ['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'] as const;

function common(kind: CheckedRole, f: RoleFacts, label: string, out: RoleProblem[]): void {
  const add = (code: string, message: string) =>
    out.push({ kind, role: f.role, code, message: `${kind} role "${f.role}" ${message}` });
  if (!f.canLogin) add('cannot-login', 'cannot log in (NOLOGIN)');
  if (f.attributes.length > 0) add('attributes', `has ${f.attributes.join(', ')}, which reach past any grant`);
  if (f.schemaCreate) add('can-create', `has CREATE on schema ${label.split('.')[0]}`);
  if (f.databaseCreate) add('can-create', 'has CREATE on the database (it can create schemas)');
  if (f.memberOfOwner) add('member-of-owner', `is a member of the owner of ${label}, so it can ALTER it`);
  if (f.ownedCount > 0) {
    const sample =
      f.ownedSample.length > 0 ? ` (${f.ownedSample.slice(0, 3).join(', ')}${f.ownedCount > 3 ? ', ...' : ''})` : '';
    add('owns-objects', `owns ${f.ownedCount} object${f.ownedCount === 1 ? '' : 's'}${sample}; it must own nothing`);
  }
  if (!f.schemaUsage) add('no-schema-usage', `has no USAGE on schema ${label.split('.')[0]}`);
}

/** Every problem with the app role's privileges on `label` (schema.table). */
export function appRoleProblems(f: RoleFacts, label: string): RoleProblem[] {
  const out: RoleProblem[] = [];
  if (!f.exists)
    return [{ kind: 'app', role: f.role, code: 'missing', message: `app role "${f.role}" does not exist` }];
  common('app', f, label, out);
  const add = (code: string, message: string) =>
    out.push({ kind: 'app', role: f.role, code, message: `app role "${f.role}" ${message}` });
  const missing = APP_DML.filter((p) => !f.tablePrivileges.includes(p));
  if (missing.length > 0) add('no-dml', `lacks ${missing.join(', ')} on ${label}`);
  const extra = APP_FORBIDDEN.filter((p) => f.tablePrivileges.includes(p));
  if (extra.length > 0) add('extra-privilege', `has ${extra.join(', ')} on ${label}; the app gets DML only`);
  if (f.sequencesWithoutUsage.length > 0)
    add('no-sequence-usage', `lacks USAGE on ${f.sequencesWithoutUsage.join(', ')}, so its inserts fail`);
  return out;
}

/** Every problem with the verify role: it must read the table and the state schema, and write nothing. */
export function verifyRoleProblems(f: RoleFacts, label: string): RoleProblem[] {
  const out: RoleProblem[] = [];
  if (!f.exists)
    return [{ kind: 'verify', role: f.role, code: 'missing', message: `verify role "${f.role}" does not exist` }];
  common('verify', f, label, out);
  const add = (code: string, message: string) =>
    out.push({ kind: 'verify', role: f.role, code, message: `verify role "${f.role}" ${message}` });
  if (!f.tablePrivileges.includes('SELECT')) add('no-select', `lacks SELECT on ${label}`);
  const writes = WRITE_PRIVILEGES.filter((p) => f.tablePrivileges.includes(p));
  if (writes.length > 0) add('can-write', `has ${writes.join(', ')} on ${label}; verify is read-only`);
  const st = f.state;
  if (st === null) {
    add(
      'no-state-schema',
      `cannot read the state schema "${STATE_SCHEMA}", which does not exist yet: create it owned by the migrator, grant the verify role USAGE on it and SELECT on the tables the migrator creates there (ALTER DEFAULT PRIVILEGES)`,
    );
    return out;
  }
  if (!st.usage) add('no-state-usage', `has no USAGE on schema ${STATE_SCHEMA}`);
  if (st.create) add('can-create', `has CREATE on schema ${STATE_SCHEMA}`);
  if (st.unreadableTables.length > 0) add('no-state-select', `lacks SELECT on ${st.unreadableTables.join(', ')}`);
  if (st.writableTables.length > 0) add('can-write', `can write ${st.writableTables.join(', ')}; verify is read-only`);
  // Before the first expand the state schema has no table yet; the one expand creates must be readable.
  if (!st.hasTables && !st.futureTablesReadable) {
    add(
      'no-state-default-select',
      `will not be able to read the state table the first expand creates: grant it SELECT on future tables of ${STATE_SCHEMA} (ALTER DEFAULT PRIVILEGES FOR ROLE <migrator> IN SCHEMA ${STATE_SCHEMA} GRANT SELECT ON TABLES TO "${f.role}")`,
    );
  }
  return out;
}
