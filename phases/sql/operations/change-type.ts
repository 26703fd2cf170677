import { SpecError } from '../../errors';
import { checkExpression } from '../expression';
import { checkExistingName, checkNewName, checkType, MAX_IDENTIFIER_BYTES } from '../identifiers';
import { absentColumn, existingColumn, expectKeys, required } from './fields';
import { carriedProperties } from './carried-properties';
import { ColumnMapping, OperationDefinition, TableInfo } from './operation';

/**
 * change_type: the new type lives in a new column (`into`, default `<column>_new`) that v2 and v3
 * address by name; the old column is dropped at contract. Without views in front of the table a
 * column cannot change type in place while v1 still reads it. NOT NULL carries over, the safe way;
 * the default (converted), identity and the column's other properties too (carried-properties.ts).
 */
export interface ChangeType {
  column: string;
  type: string;
  into: string;
  up: string;
  down: string;
  /** The new column's default from contract on, instead of the old column's converted. */
  default?: string;
}

export const changeType: OperationDefinition<ChangeType> = {
  kind: 'change_type',
  parse(body, field) {
    expectKeys(field, body, ['column', 'type', 'up', 'down', 'into', 'default']);
    const d = body.default;
    const column = checkExistingName(`${field}.column`, required(`${field}.column`, body.column, 'the column whose type changes'));
    const defaultInto = `${column}_new`;
    if (body.into === undefined && Buffer.byteLength(defaultInto) > MAX_IDENTIFIER_BYTES) {
      throw new SpecError(`${field}.into`, `is needed: the default name "${defaultInto}" is over ${MAX_IDENTIFIER_BYTES} bytes`);
    }
    return {
      column,
      type: checkType(`${field}.type`, required(`${field}.type`, body.type, 'the new type')),
      into: checkNewName(`${field}.into`, body.into ?? defaultInto),
      up: checkExpression(`${field}.up`, required(`${field}.up`, body.up, `an up expression converting ${column} to the new type`)),
      down: checkExpression(`${field}.down`, required(`${field}.down`, body.down, `a down expression converting back to ${column}'s type`)),
      ...(d === undefined ? {} : { default: checkExpression(`${field}.default`, typeof d === 'number' || typeof d === 'boolean' ? String(d) : d) }),
    };
  },
  resolve(op, table: TableInfo, field): ColumnMapping {
    const old = existingColumn(table, `${field}.column`, op.column);
    absentColumn(table, `${field}.into`, op.into);
    return {
      kind: 'change_type',
      field,
      label: `change_type ${op.column} -> ${op.into} ${op.type}`,
      oldColumns: [op.column],
      newColumns: [
        {
          field,
          name: op.into,
          type: op.type,
          up: op.up,
          notNull: old.notNull,
          ...carriedProperties(old, `${field}.column`, { newType: op.type }),
          // The old default, converted to the new type, moves to `into` when the column goes (validate parses the conversion).
          // A `default` of the spec replaces it, from contract on too (until then old versions' inserts get `up`).
          ...(op.default !== undefined
            ? { default: op.default, defaultAt: 'contract' as const }
            : old.defaultExpr !== undefined
              ? { default: `(${old.defaultExpr})::${op.type}`, defaultAt: 'contract' as const }
              : {}),
        },
      ],
      down: { [op.column]: op.down },
    };
  },
};
