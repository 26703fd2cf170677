import { ColumnMapping, MappingFacts, NewColumn } from './operation';
import { operationOf } from './registry';

/** What the planners read about a column operation's mapping (also one recorded at expand), from its operation's declared facts. */
export function mappingFacts(m: Pick<ColumnMapping, 'kind'>): MappingFacts {
  return operationOf(m.kind).mapping ?? {};
}

/** Does the operation have an old side that verify compares the new side with (not add_column)? */
export function hasOldSide(m: Pick<ColumnMapping, 'kind'>): boolean {
  return mappingFacts(m).oldSide !== false;
}

/** Where the `down` of an old column lives in the spec, for messages. */
export function downFieldOf(m: Pick<ColumnMapping, 'kind' | 'field'>, old: string): string {
  return mappingFacts(m).downField?.(m.field, old) ?? `${m.field}.down`;
}

/** Where the `up` of a new column lives in the spec, for messages. */
export function upFieldOf(m: Pick<ColumnMapping, 'kind'>, c: NewColumn): string {
  return mappingFacts(m).upField?.(c) ?? `${c.field}.up`;
}
