/**
 * The pure part of the stand-in for pulumi-command v1.2.1's `command:local:Command` (the end-to-end
 * suite's command provider; see e2e/README.md for why there is a stand-in): which inputs it
 * accepts (Check), what a change of inputs means (Diff), the id, the outputs, the environment of a
 * run and the error of a failed run. Written from the behaviour of v1.2.1's source
 * (provider/pkg/provider/local/*, on pulumi-go-provider v1.3.0's `infer` defaults), not from its code.
 *
 * Property values arrive as the Node provider server hands them over: secrets as
 * `{ [specialSigKey]: specialSecretSig, value }` objects, unknowns (in preview) as `unknownValue`.
 */
import { randomBytes } from 'crypto';
import { specialSecretSig, specialSigKey, unknownValue } from '@pulumi/pulumi/runtime/rpc';

/** The inputs v1.2.1 declares for local.Command, with the ones this stand-in runs. */
export const INPUTS = [
  'triggers',
  'create',
  'update',
  'delete',
  'stdin',
  'logging',
  'interpreter',
  'dir',
  'environment',
  'assetPaths',
  'archivePaths',
  'addPreviousOutputInEnv',
] as const;
/** Declared by v1.2.1 but not reproduced here: Check refuses them, so a divergence shows instead of passing silently. */
export const NOT_IMPLEMENTED: readonly string[] = ['assetPaths', 'archivePaths'];
/** The one input whose change replaces the Command (`provider:"replaceOnChanges"` in v1.2.1). */
export const REPLACE_ON_CHANGES: readonly string[] = ['triggers'];
export const LOGGING = ['stdout', 'stderr', 'stdoutAndStderr', 'none'] as const;

export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}

export const isSecret = (v: unknown): v is { value: unknown } =>
  typeof v === 'object' && v !== null && (v as Record<string, unknown>)[specialSigKey] === specialSecretSig;

/** The value with every secret wrapper taken off (deeply), as v1.2.1 compares and runs values. */
export function unwrap(v: unknown): unknown {
  if (isSecret(v)) return unwrap(v.value);
  if (Array.isArray(v)) return v.map(unwrap);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
  return v;
}

/** Whether an unknown (a value only the up will know) is anywhere in the value. */
export function hasUnknown(v: unknown): boolean {
  if (v === unknownValue) return true;
  if (isSecret(v)) return hasUnknown(v.value);
  if (Array.isArray(v)) return v.some(hasUnknown);
  if (typeof v === 'object' && v !== null) return Object.values(v).some(hasUnknown);
  return false;
}

const isString = (v: unknown) => typeof v === 'string';
const TYPES: Record<string, { ok: (v: unknown) => boolean; what: string }> = {
  triggers: { ok: Array.isArray, what: 'a list' },
  create: { ok: isString, what: 'a string' },
  update: { ok: isString, what: 'a string' },
  delete: { ok: isString, what: 'a string' },
  stdin: { ok: isString, what: 'a string' },
  dir: { ok: isString, what: 'a string' },
  logging: { ok: (v) => (LOGGING as readonly unknown[]).includes(v), what: `one of ${LOGGING.join(', ')}` },
  interpreter: { ok: (v) => Array.isArray(v) && v.every(isString), what: 'a list of strings' },
  environment: {
    ok: (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isString),
    what: 'a map of strings',
  },
  addPreviousOutputInEnv: { ok: (v) => typeof v === 'boolean', what: 'a boolean' },
};

/** Check: every input known, implemented and of its type (unknowns pass: preview does not know them yet). */
export function checkInputs(news: Record<string, unknown>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  for (const [key, raw] of Object.entries(news)) {
    if (key.startsWith('__')) continue;
    if (!(INPUTS as readonly string[]).includes(key)) {
      failures.push({ property: key, reason: `command:local:Command (v1.2.1) has no input "${key}"` });
    } else if (NOT_IMPLEMENTED.includes(key)) {
      failures.push({
        property: key,
        reason: `the end-to-end suite's stand-in for the command provider does not implement "${key}"; use the real pulumi-command v1.2.1 for it`,
      });
    } else if (raw !== undefined && raw !== null && !hasUnknown(raw)) {
      // Secret wrappers (of the whole value or of one environment entry) come off before typing.
      if (!TYPES[key].ok(unwrap(raw))) failures.push({ property: key, reason: `must be ${TYPES[key].what}` });
    }
  }
  return failures;
}

export interface DiffResult {
  readonly changes: boolean;
  readonly replaces: string[];
  /** v1.2.1 never asks for delete-before-replace: a replaced Command is created before the old one is deleted. */
  readonly deleteBeforeReplace: false;
}

const equal = (a: unknown, b: unknown): boolean => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}
const absent = (v: unknown) => v === undefined || v === null;

/**
 * Diff of the old state (inputs as stored, plus stdout/stderr) against the new inputs, over the
 * input properties only: a changed `triggers` replaces, any other changed input updates in place;
 * secrets are compared by their values; an unknown counts as a change. `changes` is always set.
 */
export function diffInputs(olds: Record<string, unknown>, news: Record<string, unknown>): DiffResult {
  const changed: string[] = [];
  for (const key of INPUTS) {
    const before = olds[key];
    const after = news[key];
    if (hasUnknown(after)) changed.push(key);
    else if (absent(before) && absent(after)) continue;
    else if (absent(before) !== absent(after) || !equal(unwrap(before), unwrap(after))) changed.push(key);
  }
  return {
    changes: changed.length > 0,
    replaces: changed.filter((k) => REPLACE_ON_CHANGES.includes(k)),
    deleteBeforeReplace: false,
  };
}

/** The id of a new Command: its name and 8 random hex digits. */
export function newId(name: string): string {
  return name + randomBytes(4).toString('hex');
}

/** The resource name of a URN (its last `::` part). */
export const urnName = (urn: string): string => urn.slice(urn.lastIndexOf('::') + 2);

export interface PreviousOutputs {
  readonly stdout?: unknown;
  readonly stderr?: unknown;
}

/** A run's argv: `interpreter` + the command, or `/bin/sh -c` + the command. */
export function commandArgv(command: string, inputs: Record<string, unknown>): string[] {
  const interpreter = unwrap(inputs.interpreter) as string[] | undefined;
  return [...(interpreter && interpreter.length ? interpreter : ['/bin/sh', '-c']), command];
}

/**
 * A run's environment: the provider's own, then `environment`, then PULUMI_COMMAND_STDOUT/STDERR
 * from the previous outputs when they are not empty, unless addPreviousOutputInEnv is false.
 */
export function commandEnv(
  base: NodeJS.ProcessEnv,
  inputs: Record<string, unknown>,
  previous: PreviousOutputs,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    ...((unwrap(inputs.environment) as Record<string, string> | undefined) ?? {}),
  };
  if (unwrap(inputs.addPreviousOutputInEnv) !== false) {
    const stdout = unwrap(previous.stdout);
    const stderr = unwrap(previous.stderr);
    if (typeof stdout === 'string' && stdout !== '') env.PULUMI_COMMAND_STDOUT = stdout;
    if (typeof stderr === 'string' && stderr !== '') env.PULUMI_COMMAND_STDERR = stderr;
  }
  return env;
}

/** Go's %q of a string (what v1.2.1's error message quotes the command with), for printable text and the usual escapes. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u([0-9a-f]{4})/g, (_, h) => `\\x${h.slice(2)}`);
}

/** The error of a failed run: `exit status N: running "<cmd>":\n<stdout and stderr as they came>`. */
export function runFailure(command: string, status: number | null, signal: string | null, combined: string): string {
  const why = status !== null ? `exit status ${status}` : `signal: ${signal === 'SIGKILL' ? 'killed' : signal}`;
  return `${why}: running ${goQuote(command)}:\n${combined}`;
}

/** One trailing newline off, as v1.2.1 trims stdout and stderr. */
export const trimOneNewline = (s: string): string => (s.endsWith('\n') ? s.slice(0, -1) : s);
