import { ColumnMapping, MappingFacts, NewColumn, ParsedOperation } from './operation';
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

/** Does the parsed operation change columns (a column operation, or an object operation that touches columns: a constraint with a data fix)? */
export function changesColumns(op: ParsedOperation): boolean {
  const def = operationOf(op.kind);
  return !def.objectOnly || (def.touches?.(op.body) ?? []).length > 0;
}

/** Does the operation name its own table (or none), rather than work on the spec's? */
export function namesOwnTable(op: Pick<ParsedOperation, 'kind'>): boolean {
  return operationOf(op.kind).ownTable === true;
}
