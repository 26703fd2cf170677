import { UsageError } from '../phases/errors';

/**
 * `repair --keys`: a comma-separated list of single-column keys (`1,2,3`), or a JSON array of
 * composite keys (`[[1,"a"],[2,"b"]]`). Each key is returned as the text the executor takes: a
 * single value as is, a composite key as its JSON array. Bad input is one sentence, exit 2.
 */
export function parseRepairKeys(raw: string): string[] {
  const text = raw.trim();
  if (text === '')
    throw new UsageError(
      '--keys must list at least one key, e.g. --keys 1,2,3 or --keys \'[[1,"a"]]\' for a composite key',
    );
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new UsageError(
        `--keys starts with "[" but is not valid JSON (${(err as Error).message}); write composite keys as a JSON array of arrays, e.g. '[[1,"a"],[2,"b"]]'`,
      );
    }
    if (
      !Array.isArray(parsed) ||
      parsed.length === 0 ||
      !parsed.every((k) => Array.isArray(k) && k.length > 0 && k.every((v) => ['string', 'number'].includes(typeof v)))
    ) {
      throw new UsageError(
        `--keys ${text} is not a non-empty JSON array of composite keys (arrays of strings or numbers), e.g. '[[1,"a"],[2,"b"]]'`,
      );
    }
    return parsed.map((k) => JSON.stringify((k as unknown[]).map(String)));
  }
  const keys = text.split(',').map((k) => k.trim());
  if (keys.some((k) => k === ''))
    throw new UsageError(`--keys "${raw}" has an empty key; separate keys with single commas, e.g. --keys 1,2,3`);
  return keys;
}
