import { UsageError } from '../phases/errors';

export type FlagKind = 'string' | 'boolean' | 'integer';

export interface FlagSpec {
  readonly kind: FlagKind;
  readonly description: string;
  /** Shown in help, e.g. N or URL. */
  readonly value?: string;
}

export interface ParsedArgs {
  readonly positionals: string[];
  readonly flags: Record<string, string | boolean | number | undefined>;
}

/** `--name value`, `--name=value`, `--flag`; `--` ends flags. Unknown flags are usage errors. */
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
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`option --${name} needs a value${spec.value ? ` (${spec.value})` : ''}`);
    if (spec.kind === 'integer') {
      if (!/^\d+$/.test(value)) throw new UsageError(`option --${name} must be a whole number, not "${value}"`);
      flags[name] = Number(value);
    } else {
      flags[name] = value;
    }
  }
  return { positionals, flags };
}
