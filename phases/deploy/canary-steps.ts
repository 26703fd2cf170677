/**
 * The canary steps of the app Rollout: the default (setWeight 10, pause, analysis, 50, pause, 90,
 * pause, 100) and the parser for the `tandem:canarySteps` config value. Pure.
 */
import { ConfigError } from './config-error';

/** An Argo Rollouts pause duration: seconds as a number, or a number with s, m or h. */
export type PauseDuration = number | string;

/** Tandem's step vocabulary; `analysis` runs the data-consistency AnalysisTemplate (tandem verify). */
export type CanaryStep =
  | { readonly setWeight: number }
  | { readonly pause: { readonly duration?: PauseDuration } }
  | { readonly analysis: Record<string, never> };

export const DEFAULT_PAUSE: PauseDuration = '30s';

export function defaultCanarySteps(pause: PauseDuration = DEFAULT_PAUSE): CanaryStep[] {
  return [
    { setWeight: 10 },
    { pause: { duration: pause } },
    { analysis: {} },
    { setWeight: 50 },
    { pause: { duration: pause } },
    { setWeight: 90 },
    { pause: { duration: pause } },
    { setWeight: 100 },
  ];
}

const DURATION = /^[0-9]+(s|m|h)$/;
const SECONDS = /^[0-9]+$/;

/** `30` or `"30"` (seconds) or `"30s"`, `"5m"`, `"1h"`; plain digits become a number of seconds. */
export function parsePauseDuration(key: string, value: unknown): PauseDuration {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && SECONDS.test(value)) return Number(value);
  if (typeof value === 'string' && DURATION.test(value)) return value;
  throw new ConfigError(
    key,
    `${JSON.stringify(value)} is not a pause duration; use seconds (30) or a number with s, m or h ("30s", "5m")`,
  );
}

/**
 * The `tandem:canarySteps` config value as `pulumi config set` stores it: a string. Either a comma
 * list (`setWeight 20, pause 1m, analysis, setWeight 100`) or a JSON list of strings
 * (`["setWeight 20", "pause 1m", "analysis"]`). Empty: the default steps. Pulumi.yaml declares the
 * key as a string because the CLI refuses a plain `pulumi config set` of a key typed `array`.
 */
export function parseCanaryStepsConfig(key: string, value: string): CanaryStep[] | undefined {
  const text = value.trim();
  if (text === '') return undefined;
  if (text.startsWith('[')) {
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch {
      throw new ConfigError(
        key,
        'starts with [ but is not a JSON list; write the steps as a comma list, e.g. "setWeight 10, pause 30s, analysis"',
      );
    }
    return parseCanarySteps(key, list);
  }
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p === ''))
    throw new ConfigError(key, `"${value}" has an empty step; separate steps with one comma`);
  return parseCanarySteps(key, parts);
}

/**
 * Parse the `tandem:canarySteps` config value: a list of strings, one step each, e.g.
 * `["setWeight 20", "pause 1m", "analysis", "pause", "setWeight 100"]`. `pause` alone waits for a
 * manual promote. At least one analysis step is required, so no canary is promoted without a
 * data-consistency check, and weights never go down.
 */
export function parseCanarySteps(key: string, value: unknown): CanaryStep[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new ConfigError(key, 'must be a non-empty list of steps, e.g. ["setWeight 10", "pause 30s", "analysis"]');
  let lastWeight = 0;
  const steps = value.map((raw, i): CanaryStep => {
    const at = `${key}[${i}]`;
    if (typeof raw !== 'string')
      throw new ConfigError(
        at,
        `${JSON.stringify(raw)} is not a step; write "setWeight 10", "pause 30s", "pause" or "analysis"`,
      );
    const [kind, arg, ...rest] = raw.trim().split(/\s+/);
    if (rest.length > 0) throw new ConfigError(at, `"${raw}" has more than one argument`);
    switch (kind) {
      case 'setWeight': {
        const weight = arg !== undefined && SECONDS.test(arg) ? Number(arg) : NaN;
        if (!(weight >= 1 && weight <= 100))
          throw new ConfigError(at, `"${raw}": the weight must be a whole percentage from 1 to 100`);
        if (weight < lastWeight)
          throw new ConfigError(
            at,
            `"${raw}" is lower than the weight before it (${lastWeight}); a canary only moves forward`,
          );
        lastWeight = weight;
        return { setWeight: weight };
      }
      case 'pause':
        return arg === undefined ? { pause: {} } : { pause: { duration: parsePauseDuration(at, arg) } };
      case 'analysis':
        if (arg !== undefined)
          throw new ConfigError(
            at,
            `"${raw}": analysis takes no argument (it runs the tandem verify AnalysisTemplate)`,
          );
        return { analysis: {} };
      default:
        throw new ConfigError(at, `"${raw}" is not a step; write "setWeight 10", "pause 30s", "pause" or "analysis"`);
    }
  });
  if (!steps.some((s) => 'analysis' in s)) {
    throw new ConfigError(key, 'has no analysis step; every canary must be gated on tandem verify');
  }
  return steps;
}
