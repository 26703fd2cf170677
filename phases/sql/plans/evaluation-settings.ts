/**
 * The session settings under which Tandem evaluates `up` and `down`, everywhere: the sync and
 * fill functions carry them as SET clauses (so the trigger, which runs in the app's session,
 * evaluates exactly as the executor does), and every executor session (backfill, verify, repair)
 * starts with them. For one write, the trigger and the backfill, verify and repair then give the
 * same value whatever the app's session says. Each one changes what a conversion gives:
 * - TimeZone: timestamp <-> timestamptz, date_trunc / to_char / ::date of a timestamptz;
 * - DateStyle: text <-> date and timestamp in both directions ('01/02/2024' is MDY or DMY);
 * - IntervalStyle, extra_float_digits, bytea_output: the text form of intervals, floats, bytea;
 * - xmloption: text -> xml; lc_monetary, lc_numeric, lc_time: money, to_char's D/G/L and TM.
 * search_path is pinned too, to the schemas the expand session resolved (not a fixed value): see
 * executor/evaluation-settings.ts.
 */
export const EVALUATION_SETTINGS: readonly (readonly [string, string])[] = [
  ['TimeZone', 'UTC'],
  ['DateStyle', 'ISO,YMD'],
  ['IntervalStyle', 'postgres'],
  ['extra_float_digits', '1'],
  ['bytea_output', 'hex'],
  ['xmloption', 'content'],
  ['lc_monetary', 'C'],
  ['lc_numeric', 'C'],
  ['lc_time', 'C'],
  // Not a value setting: how a backslash in a string literal of the function's body parses, in
  // the app's session (off: '\' opens an escape, and the body may not even compile).
  ['standard_conforming_strings', 'on'],
  // What an unquoted NULL in an array's text form gives ('{a,NULL}': off makes it the string).
  ['array_nulls', 'on'],
  // How `x = NULL` parses (on: as `x IS NULL`).
  ['transform_null_equals', 'off'],
];

/**
 * The settings the independence analysis (executor/settings-independence.ts) does not judge, since
 * any expression can meet them (an array's text form, `= NULL`): pinned wherever search_path is,
 * and checked on every call by a sync function that runs without its SET clause.
 */
export const UNANALYSED_SETTINGS: readonly string[] = ['array_nulls', 'transform_null_equals'];

/**
 * The SET clauses of a function that evaluates `up`/`down`: the fixed settings, and the search_path
 * of the session that creates it. `searchPathOnly` when no expression it evaluates can depend on the
 * fixed ones (ResolvedSpec.settingsIndependent): each SET clause costs every call of the function.
 * The unanalysed settings stay pinned there, and standard_conforming_strings when the body has a
 * backslash (`backslash`).
 */
export function evaluationSetClauses(options: { searchPathOnly?: boolean; backslash?: boolean } = {}): string {
  const pinned = options.searchPathOnly
    ? EVALUATION_SETTINGS.filter(
        ([name]) => UNANALYSED_SETTINGS.includes(name) || (options.backslash && name === 'standard_conforming_strings'),
      )
    : EVALUATION_SETTINGS;
  const fixed = pinned.map(([name, value]) => `SET ${name} = '${value}'`);
  return [...fixed, 'SET search_path FROM CURRENT'].join(' ');
}

/** The same settings as libpq startup options (`-c name=value`), for the executor's own connections. */
export function evaluationStartupOptions(): string {
  return EVALUATION_SETTINGS.map(([name, value]) => `-c ${name}=${value}`).join(' ');
}
