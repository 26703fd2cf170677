import { operationOf } from './operations';
import { MigrationSpec } from './spec';

/**
 * Where a spec's replaced columns land. Without views in front of the table, a column whose type
 * or NULL-ness changes (or whose values a constraint's `up` fixes) is a new column under a new
 * name: the old name is in use by the old versions until contract. Getting the old name back is a
 * second migration, rename_column new -> old, with its own releases (one that reads the new name
 * and writes both, then one that uses the old name only). set_not_null without `up` lands on the
 * old name itself and needs none.
 */
export interface Landing {
  readonly field: string;
  readonly kind: string;
  /** The column as the spec found it. */
  readonly column: string;
  /** The name it has after contract. */
  readonly into: string;
}

/** The spec's columns that end under a new name although the user only changed their type, NULL-ness or values. */
export function newNameLandings(spec: MigrationSpec): Landing[] {
  const out: Landing[] = [];
  for (const op of spec.operations) {
    const moved = operationOf(op.kind).landsUnderNewName?.(op.body);
    if (moved) out.push({ field: op.field, kind: op.kind, column: moved.column, into: moved.into });
  }
  return out;
}

/** One line for `tandem plan`: the second migration that lands the columns on their old names, or undefined when none is needed. */
export function landingFollowUp(spec: MigrationSpec): string | undefined {
  const landings = newNameLandings(spec);
  if (!landings.length) return undefined;
  const renames = landings.map((l) => `rename_column { from: ${l.into}, to: ${l.column} }`).join(', ');
  return `follow-up: ${spec.name} leaves ${landings.map((l) => `${l.column} as ${l.into}`).join(', ')}; to land on the old name${landings.length > 1 ? 's' : ''}, a second migration (${renames}) with two more releases: one reading the new name${landings.length > 1 ? 's' : ''} and writing both, then one using the old only`;
}
