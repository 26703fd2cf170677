import { SpecError } from '../../errors';
import { checkExpression } from '../expression';
import { checkExistingName, checkNewName, checkType, MAX_IDENTIFIER_BYTES } from '../identifiers';
import { absentColumn, existingColumn } from './fields';
import { FieldDecl, readFields } from './declared-fields';
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

const FIELDS: readonly FieldDecl[] = [
  { name: 'column', type: 'string', required: true, description: 'the column whose type changes' },
  { name: 'type', type: 'string', required: true, description: 'the new type' },
  { name: 'up', type: 'string', required: true, description: 'an up expression converting the column to the new type' },
  {
    name: 'down',
    type: 'string',
    required: true,
    description: "a down expression converting back to the column's type",
  },
  { name: 'into', type: 'string', description: "the new column's name (default <column>_new)" },
  {
    name: 'default',
    type: 'scalar',
    description: "the new column's default from contract on, instead of the old column's converted",
  },
];

export const changeType: OperationDefinition<ChangeType> = {
  kind: 'change_type',
  summary: 'The new type lives in a new column (into), kept in sync both ways; the old column is dropped at contract.',
  fields: FIELDS,
  touches: (op) => [op.column, op.into],
  mapping: { convertsOldDefault: true, replacesColumn: true },
  landsUnderNewName: (op) => ({ column: op.column, into: op.into }),
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    const d = body.default;
    const column = checkExistingName(`${field}.column`, need('column'));
    const defaultInto = `${column}_new`;
    if (body.into === undefined && Buffer.byteLength(defaultInto) > MAX_IDENTIFIER_BYTES) {
      throw new SpecError(
        `${field}.into`,
        `is needed: the default name "${defaultInto}" is over ${MAX_IDENTIFIER_BYTES} bytes`,
      );
    }
    return {
      column,
      type: checkType(`${field}.type`, need('type')),
      into: checkNewName(`${field}.into`, body.into ?? defaultInto),
      up: checkExpression(`${field}.up`, need('up')),
      down: checkExpression(`${field}.down`, need('down')),
      ...(d === undefined
        ? {}
        : {
            default: checkExpression(
              `${field}.default`,
              typeof d === 'number' || typeof d === 'boolean' ? String(d) : d,
            ),
          }),
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
