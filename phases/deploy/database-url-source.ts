/**
 * The one rule for which database a tandem step or the walker's gates connect to. First given wins:
 * 1. the --database-url flag;
 * 2. the stack's config (`tandem:databaseUrl`): the walker reads its stack's, a step a Pulumi
 *    Command runs reads the key its environment names (TANDEM_STACK, TANDEM_DATABASE_URL_CONFIG);
 * 3. the DATABASE_URL environment variable, where no stack is involved.
 * Where a stack is involved it decides: a stack without the key is bad input, as is an empty flag or
 * stack value (falling through to whatever DATABASE_URL the shell has would reach another database,
 * e.g. a Command's delete at `pulumi destroy`); an empty DATABASE_URL counts as unset, as shells mean it.
 * Pure: the CLI (synchronous, `pulumi config`) and the walker (asynchronous, the Automation API) supply
 * the stack lookup.
 */
import { UsageError } from '../errors';

export const DATABASE_URL_SOURCES = ['flag', 'stack', 'env'] as const;
export type DatabaseUrlSource = (typeof DATABASE_URL_SOURCES)[number];

/** A stack's config value for the key (undefined: the stack has no such key). */
export interface StackConfigValue {
  readonly stack: string;
  readonly key: string;
  readonly value: string | undefined;
}

/** The inputs, with the stack's value looked up only when the flag gives none. */
export interface DatabaseUrlInputs<Stack> {
  readonly flag?: string;
  /** The stack's config value, or undefined where no stack is involved. */
  readonly stack: () => Stack;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const SOURCE_NAMES: Record<DatabaseUrlSource, string> = {
  flag: '--database-url',
  stack: "the stack's tandem:databaseUrl",
  env: 'DATABASE_URL',
};

/** A source's value as the rule takes it: the URL, undefined to go on to the next source, or a UsageError. */
function accept(source: DatabaseUrlSource, value: string | undefined): string | undefined {
  if (value === undefined || (value === '' && source === 'env')) return undefined;
  if (value.trim() === '')
    throw new UsageError(
      `${SOURCE_NAMES[source]} is empty; give the database URL, e.g. postgres://user:password@host:5432/database`,
    );
  return value;
}

/** The database URL, or undefined when no source gives one (the caller says what needs it). */
export function resolveDatabaseUrl(inputs: DatabaseUrlInputs<StackConfigValue | undefined>): string | undefined {
  const flag = accept('flag', inputs.flag);
  if (flag !== undefined) return flag;
  const stack = inputs.stack();
  if (!stack) return accept('env', inputs.env.DATABASE_URL);
  if (stack.value === undefined) {
    throw new UsageError(
      `stack ${stack.stack} has no ${stack.key}: set it with pulumi config set --secret ${stack.key} URL --stack ${stack.stack}, or pass --database-url`,
    );
  }
  return accept('stack', stack.value);
}

/** The same rule, with a stack lookup that is asynchronous (the walker's Automation API). */
export async function resolveDatabaseUrlAsync(
  inputs: DatabaseUrlInputs<Promise<StackConfigValue | undefined>>,
): Promise<string | undefined> {
  const stack = accept('flag', inputs.flag) === undefined ? await inputs.stack() : undefined;
  return resolveDatabaseUrl({ ...inputs, stack: () => stack });
}
