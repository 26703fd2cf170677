/**
 * The migrator's URL for a tandem step that a Pulumi Command runs. The Command's environment names
 * the stack and the config key (TANDEM_STACK, TANDEM_DATABASE_URL_CONFIG) instead of carrying the
 * URL, so the URL is no input of the Command: rotating it changes nothing Pulumi diffs. The value
 * is read here, when the step runs, with `pulumi config --json --show-secrets` (what the walker's
 * Automation API reads), so a delete (whose environment comes from the state) also gets the
 * credentials the stack has now. Which source wins is phases/deploy/database-url-source.ts's rule.
 */
import { spawnSync } from 'child_process';
import { UsageError } from '../phases/errors';
import { findPulumi } from '../automation/pulumi-cli';
import { StackConfigValue } from '../phases/deploy/database-url-source';
import { DATABASE_URL_CONFIG_ENV, STACK_ENV } from '../phases/deploy/schema-commands';

/**
 * The stack's config value when the environment names a stack and key (its value undefined when the
 * stack has no such key); undefined when the environment names none.
 */
export function stackConfigDatabaseUrl(
  env: NodeJS.ProcessEnv,
  cwd: string = process.cwd(),
): StackConfigValue | undefined {
  const key = env[DATABASE_URL_CONFIG_ENV];
  if (!key) return undefined;
  const stack = env[STACK_ENV];
  if (!stack) throw new UsageError(`${DATABASE_URL_CONFIG_ENV} names ${key} but ${STACK_ENV} names no stack`);
  const pulumi = findPulumi(env);
  if (!pulumi) throw new UsageError(`reading ${key} of stack ${stack} needs the pulumi CLI on PATH`);
  const r = spawnSync(pulumi, ['config', '--json', '--show-secrets', '--stack', stack, '--non-interactive'], {
    cwd,
    env,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    const why =
      `${r.stderr ?? ''}`
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l !== '') ?? `exit status ${r.status}`;
    throw new UsageError(`could not read ${key} of stack ${stack} with pulumi config: ${why}`);
  }
  let config: Record<string, { value?: unknown } | undefined>;
  try {
    config = JSON.parse(r.stdout);
  } catch {
    throw new UsageError(`could not read ${key} of stack ${stack}: pulumi config --json printed no JSON`);
  }
  const value = config?.[key]?.value;
  if (value !== undefined && typeof value !== 'string')
    throw new UsageError(`${key} of stack ${stack} is not a string`);
  return { stack, key, value };
}
