/**
 * The migrator's URL for a tandem step that a Pulumi Command runs. The Command's environment names
 * the stack and the config key (TANDEM_STACK, TANDEM_DATABASE_URL_CONFIG) instead of carrying the
 * URL, so the URL is no input of the Command: rotating it changes nothing Pulumi diffs. The value
 * is read here, when the step runs, with `pulumi config get`, so a delete (whose environment comes
 * from the state) also gets the credentials the stack has now.
 */
import { spawnSync } from 'child_process';
import { UsageError } from '../phases/errors';
import { findPulumi } from '../automation/pulumi-cli';
import { DATABASE_URL_CONFIG_ENV, STACK_ENV } from '../phases/deploy/schema-commands';

/** The URL from the stack's config when the environment names one; undefined when it does not. */
export function stackConfigDatabaseUrl(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): string | undefined {
  const key = env[DATABASE_URL_CONFIG_ENV];
  if (!key) return undefined;
  const stack = env[STACK_ENV];
  if (!stack) throw new UsageError(`${DATABASE_URL_CONFIG_ENV} names ${key} but ${STACK_ENV} names no stack`);
  const pulumi = findPulumi(env);
  if (!pulumi) throw new UsageError(`reading ${key} of stack ${stack} needs the pulumi CLI on PATH`);
  const r = spawnSync(pulumi, ['config', 'get', key, '--stack', stack, '--non-interactive'], { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) {
    const why = `${r.stderr ?? ''}`.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? `exit status ${r.status}`;
    throw new UsageError(`could not read ${key} of stack ${stack} with pulumi config get: ${why}`);
  }
  const url = r.stdout.trim();
  if (!url) throw new UsageError(`${key} of stack ${stack} is empty`);
  return url;
}
