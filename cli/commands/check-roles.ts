import { checkRoles } from '../../executor/role-check';
import { RoleCheckError } from '../../phases/sql/role-check';
import { UsageError } from '../../phases/errors';
import { Command, DATABASE_FLAGS } from '../command';
import { ExitCode } from '../exit-code';
import { checkDatabaseUrl } from '../../executor/connection';
import { databaseUrl, printResult, specArg } from '../step-context';

/**
 * `tandem check-roles SPEC --app-role R [--verify-role V]`: for roles a DBA manages outside Tandem,
 * check them on the spec's table as the migrator: the app role exists, logs in, has DML and
 * nothing that changes the schema, owns nothing; the verify role only reads the table and the
 * state schema. Exit 1 with every problem named; changes nothing.
 */
export const checkRolesCommand: Command = {
  name: 'check-roles',
  usage: 'SPEC',
  summary:
    "check roles managed outside Tandem (tandem:manageRoles false): the app role's DML only, the verify role read-only",
  flags: {
    'database-url': DATABASE_FLAGS['database-url'],
    'app-role': { kind: 'string', value: 'ROLE', required: true, description: 'the role the app logs in as' },
    'verify-role': { kind: 'string', value: 'ROLE', description: 'the read-only role the verify Job logs in as' },
  },
  async run(ctx) {
    const spec = specArg(ctx, 'check-roles');
    const appRole = ctx.args.flags['app-role'] as string | undefined;
    if (!appRole) throw new UsageError('tandem check-roles needs --app-role ROLE');
    const verifyRole = ctx.args.flags['verify-role'] as string | undefined;
    const report = await checkRoles(spec, {
      databaseUrl: checkDatabaseUrl(databaseUrl(ctx)),
      appRole,
      ...(verifyRole ? { verifyRole } : {}),
    });
    const roles = verifyRole ? `app role "${appRole}" and verify role "${verifyRole}"` : `app role "${appRole}"`;
    const message = report.ok
      ? `${roles} on ${report.table}: as Tandem needs them`
      : new RoleCheckError(report.problems).message;
    printResult(ctx, report.ok, message, report, 'role_check');
    return report.ok ? ExitCode.Ok : ExitCode.Failed;
  },
};
