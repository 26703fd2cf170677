/** A name as v2 and v3 store it. */
export interface PersonName {
  readonly first: string;
  /** Null when the name is a single word. */
  readonly last: string | null;
}

/**
 * How v2 and v3 split the name a customer types: the first word is the first name, everything
 * after the first run of spaces (trimmed) the last name. This is the apps' business logic, not
 * the migration's: the database keeps whatever each writer wrote.
 */
export function splitName(name: string): PersonName {
  const trimmed = name.trim();
  const space = trimmed.search(/\s/);
  if (space < 0) return { first: trimmed, last: null };
  const last = trimmed.slice(space).trim();
  return { first: trimmed.slice(0, space), last: last === '' ? null : last };
}

/** first + ' ' + last, or first alone: the same as the spec's down, concat_ws(' ', first_name, last_name). */
export function joinName(first: string | null, last: string | null): string {
  return [first, last].filter((part): part is string => part !== null).join(' ');
}
