import { CatalogError } from '../../errors';
import { CarriedProperties, TableColumn } from './operation';

/**
 * What a column Tandem builds in place of another (rename_column, change_type, set_not_null,
 * drop_not_null) takes over from it: the new column is what the old one was, except what the spec
 * changes. Collation, comment, statistics target, attribute options and column privileges always;
 * storage and compression while the type stays (a change_type to a text type keeps compression
 * and collation too); an identity (BY DEFAULT or ALWAYS, with its sequence's options and
 * position) and a sequence the column owns (serial) move at contract. Type, NOT NULL-ness and the
 * default are the operation's to set. What cannot be carried over is refused here, before expand
 * (validate resolves the spec the same way), naming the column.
 */
export interface CarryOptions {
  /** The new column's type, when the operation changes it (change_type). */
  readonly newType?: string;
  /** The new column may hold NULL (drop_not_null): an identity cannot. */
  readonly nullable?: boolean;
}

/** Text types: a collation and compression mean the same on them as on the old text column. */
const TEXT_TYPE =
  /^(?:pg_catalog\.)?(?:text|varchar|character varying|char|character|bpchar|citext|name)(?:\s*\(\s*\d+\s*\))?(?:\[\])*$/i;

export function carriedProperties(
  old: TableColumn,
  field: string,
  options: CarryOptions = {},
): { carried?: CarriedProperties } {
  const p = old.properties;
  if (!p) return {};
  if (p.generated) {
    throw new CatalogError(
      field,
      old.name,
      `column "${old.name}" is a generated column; Tandem cannot build it again without rewriting the table, so it does not replace it`,
    );
  }
  if (p.identity && options.nullable) {
    throw new CatalogError(
      field,
      old.name,
      `column "${old.name}" is an identity column, which is always NOT NULL; drop its identity first`,
    );
  }
  const sameType = options.newType === undefined;
  const textType = sameType || TEXT_TYPE.test(options.newType!.trim());
  const carried: CarriedProperties = {
    from: old.name,
    ...(p.collation && textType ? { collation: p.collation } : {}),
    ...(p.identity ? { identity: { ...p.identity, sameType } } : {}),
    ...(p.ownedSequence ? { ownedSequence: p.ownedSequence } : {}),
    ...(p.comment !== undefined ? { comment: p.comment } : {}),
    ...(p.storage && sameType ? { storage: p.storage } : {}),
    ...(p.compression && textType ? { compression: p.compression } : {}),
    ...(p.statistics !== undefined ? { statistics: p.statistics } : {}),
    ...(p.options?.length ? { options: p.options } : {}),
    ...(p.grants?.length ? { grants: p.grants } : {}),
  };
  return Object.keys(carried).length > 1 ? { carried } : {};
}

/** Old columns that generated columns read: contract would drop those with them. Refused before expand. */
export function refuseGeneratedReaders(old: TableColumn, field: string): void {
  const readers = old.properties?.usedByGenerated;
  if (readers?.length) {
    throw new CatalogError(
      field,
      old.name,
      `generated column${readers.length > 1 ? 's' : ''} ${readers.map((r) => `"${r}"`).join(', ')} read${readers.length > 1 ? '' : 's'} column "${old.name}", which contract drops (it would drop ${readers.length > 1 ? 'them' : 'it'} too); redefine ${readers.length > 1 ? 'them' : 'it'} first`,
    );
  }
}
