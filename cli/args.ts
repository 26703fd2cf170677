import { UsageError } from '../phases/errors';

export type FlagKind = 'string' | 'boolean' | 'integer';

/**
 * One command-line flag, declared once: its type, bounds, default and help. The parser checks the
 * type and bounds, the help and usage lines are rendered from it; a command reads only valid values.
 */
export interface FlagSpec {
  readonly kind: FlagKind;
  readonly description: string;
  /** Shown in help and usage, e.g. N or URL. */
  readonly value?: string;
  /** integer: the smallest value taken (inclusive). */
  readonly min?: number;
  /** integer: the largest value taken (inclusive). */
  readonly max?: number;
  /** What applies when the flag is not given, as help shows it. */
  readonly default?: string | number;
  /** The command needs it: usage shows it without brackets. */
  readonly required?: boolean;
}

export interface ParsedArgs {
  readonly positionals: string[];
  readonly flags: Record<string, string | boolean | number | undefined>;
}

/** What an integer flag takes, for its error sentence: "a positive whole number", "a whole number from 1 to 65535", ... */
export function integerRange(spec: FlagSpec): string {
  const { min, max } = spec;
  if (min !== undefined && max !== undefined) return `a whole number from ${min} to ${max}`;
  if (min === 1) return 'a positive whole number';
  if (min === 0) return 'a whole number, 0 or more';
  if (min !== undefined) return `a whole number of at least ${min}`;
  if (max !== undefined) return `a whole number of at most ${max}`;
  return 'a whole number';
}

function parseInteger(name: string, spec: FlagSpec, value: string): number {
  const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
  const inRange =
    Number.isSafeInteger(n) && (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max);
  if (!inRange)
    throw new UsageError(
      `option --${name} must be ${integerRange(spec)}${spec.value ? ` (${spec.value})` : ''}, not "${value}"`,
    );
  return n;
}

/** `--name value`, `--name=value`, `--flag`; `--` ends flags. Unknown flags, bad types and values out of bounds are usage errors. */
export function parseArgs(argv: readonly string[], specs: Readonly<Record<string, FlagSpec>>): ParsedArgs {
  const positionals: string[] = [];
  const flags: Record<string, string | boolean | number | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}; options are spelled --name`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (spec.kind === 'boolean') {
      if (eq >= 0) throw new UsageError(`option --${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--')))
      throw new UsageError(`option --${name} needs a value${spec.value ? ` (${spec.value})` : ''}`);
    flags[name] = spec.kind === 'integer' ? parseInteger(name, spec, value) : value;
  }
  return { positionals, flags };
}

/** `[--name VALUE]`, or `--name VALUE` for a required flag. */
export function flagUsage(name: string, spec: FlagSpec): string {
  const text = `--${name}${spec.value ? ' ' + spec.value : ''}`;
  return spec.required ? text : `[${text}]`;
}

/** A flag's help line: its description, then its default. */
export function flagHelp(spec: FlagSpec): string {
  return `${spec.description}${spec.default !== undefined ? ` (default ${spec.default})` : ''}`;
}
