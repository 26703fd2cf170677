/**
 * The one rule for which database a tandem step or the walker's gates connect to. First given wins:
 * 1. the --database-url flag;
 * 2. the stack's config (`tandem:databaseUrl`): the walker reads its stack's, a step a Pulumi
 *    Command runs reads the key its environment names (TANDEM_STACK, TANDEM_DATABASE_URL_CONFIG);
 *    a stack without the key gives nothing here;
 * 3. the DATABASE_URL environment variable.
 * An empty flag or an empty stack value is bad input (a value was given, and it is not a URL; falling
 * through to another database would be worse); an empty DATABASE_URL counts as unset, as shells mean it.
 * Pure: the CLI (synchronous, `pulumi config`) and the walker (asynchronous, the Automation API) supply
 * the stack lookup.
 */
import { UsageError } from '../errors';

export const DATABASE_URL_SOURCES = ['flag', 'stack', 'env'] as const;
export type DatabaseUrlSource = (typeof DATABASE_URL_SOURCES)[number];

/** The inputs, with the stack's value looked up only when the flag gives none. */
export interface DatabaseUrlInputs<Stack> {
  readonly flag?: string;
  /** The stack config's URL, or undefined where there is no stack or it has no such key. */
  readonly stack: () => Stack;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const SOURCE_NAMES: Record<DatabaseUrlSource, string> = { flag: '--database-url', stack: "the stack's tandem:databaseUrl", env: 'DATABASE_URL' };

/** A source's value as the rule takes it: the URL, undefined to go on to the next source, or a UsageError. */
function accept(source: DatabaseUrlSource, value: string | undefined): string | undefined {
  if (value === undefined || (value === '' && source === 'env')) return undefined;
  if (value.trim() === '') throw new UsageError(`${SOURCE_NAMES[source]} is empty; give the database URL, e.g. postgres://user:password@host:5432/database`);
  return value;
}

/** The database URL, or undefined when no source gives one (the caller says what needs it). */
export function resolveDatabaseUrl(inputs: DatabaseUrlInputs<string | undefined>): string | undefined {
  return accept('flag', inputs.flag) ?? accept('stack', inputs.stack()) ?? accept('env', inputs.env.DATABASE_URL);
}

/** The same rule, with a stack lookup that is asynchronous (the walker's Automation API). */
export async function resolveDatabaseUrlAsync(inputs: DatabaseUrlInputs<Promise<string | undefined>>): Promise<string | undefined> {
  const stack = accept('flag', inputs.flag) === undefined ? await inputs.stack() : undefined;
  return resolveDatabaseUrl({ ...inputs, stack: () => stack });
}
