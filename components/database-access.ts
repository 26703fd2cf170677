import * as postgresql from '@pulumi/postgresql';
import * as pulumi from '@pulumi/pulumi';
import { AccessPlan } from '../phases/sql/access-plan';
import { COMPONENT_TYPES } from '../phases/deploy/resource-side';

/**
 * The arguments of a DatabaseAccess: the privilege plan (phases/sql/access-plan.ts) and the login
 * passwords of the roles it creates. Pass the postgresql provider (connected as the migrator) in
 * `opts.providers`.
 */
export interface DatabaseAccessArgs {
  readonly plan: AccessPlan;
  /** The database the grants apply in (the migrator connection's database). */
  readonly database: pulumi.Input<string>;
  /** Password per role of plan.roles; secrets (they come from tandem:appDatabaseUrl). */
  readonly passwords: Readonly<Record<string, pulumi.Input<string>>>;
}

/**
 * The privilege model of hard rule 2: the app role logs in, owns nothing, and has DML only, so the
 * app can never ALTER TABLE; the verify role only reads. Children: `${name}-schema-<schema>` (the
 * state schema, kept on delete: it holds every migration's record), `${name}-role-<role>`,
 * `${name}-<role>-<objectType>` grants and `${name}-<role>-default-<objectType>` default privileges
 * for what the migrator creates later (with `-<schema>` after the role when the grant is in another
 * schema than the app's, e.g. the verify role's grants in the state schema).
 */
export class DatabaseAccess extends pulumi.ComponentResource {
  readonly roles: Readonly<Record<string, postgresql.Role>>;

  constructor(name: string, args: DatabaseAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.databaseAccess, name, {}, opts);
    const { plan } = args;
    const schemas = plan.schemas.map(
      (sc) =>
        new postgresql.Schema(
          `${name}-schema-${sc.name}`,
          { name: sc.name, owner: sc.owner, database: args.database, ifNotExists: true, dropCascade: false },
          // A destroy must not drop the state schema: it is the record of every migration on the database.
          { parent: this, retainOnDelete: true },
        ),
    );
    const inSchema = (role: string, schema: string) => (schema === plan.schema ? role : `${role}-${schema}`);
    const dependsOnSchema = (schema: string) => schemas.filter((_, i) => plan.schemas[i].name === schema);
    const roles: Record<string, postgresql.Role> = {};
    for (const r of plan.roles) {
      const password = args.passwords[r.name];
      roles[r.name] = new postgresql.Role(
        `${name}-role-${r.name}`,
        {
          name: r.name,
          login: r.login,
          superuser: r.superuser,
          createDatabase: r.createDatabase,
          createRole: r.createRole,
          roles: [...r.roles],
          ...(password !== undefined ? { password: pulumi.secret(password) } : {}),
        },
        { parent: this },
      );
    }
    const dependsOnRole = (role: string) => (roles[role] ? [roles[role]] : []);
    for (const g of plan.grants) {
      new postgresql.Grant(
        `${name}-${inSchema(g.role, g.schema)}-${g.objectType}`,
        {
          database: args.database,
          role: g.role,
          schema: g.schema,
          objectType: g.objectType,
          ...(g.objectType === 'schema' ? {} : { objects: [...g.objects] }),
          privileges: [...g.privileges],
        },
        { parent: this, dependsOn: [...dependsOnRole(g.role), ...dependsOnSchema(g.schema)] },
      );
    }
    for (const d of plan.defaultPrivileges) {
      new postgresql.DefaultPrivileges(
        `${name}-${inSchema(d.role, d.schema)}-default-${d.objectType}`,
        {
          database: args.database,
          role: d.role,
          owner: d.owner,
          schema: d.schema,
          objectType: d.objectType,
          privileges: [...d.privileges],
        },
        { parent: this, dependsOn: [...dependsOnRole(d.role), ...dependsOnSchema(d.schema)] },
      );
    }
    this.roles = roles;
    this.registerOutputs({ roles: Object.keys(roles) });
  }
}
