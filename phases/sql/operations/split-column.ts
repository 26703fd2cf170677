import { SpecError } from '../../errors';
import { checkExpression } from '../expression';
import { checkExistingName, checkNewName, checkType } from '../identifiers';
import { absentColumn, existingColumn, expectObject } from './fields';
import { FieldDecl, readFields } from './declared-fields';
import { ColumnMapping, OperationDefinition, TableInfo } from './operation';

/** split_column: one old column becomes several new ones (the talk's full_name -> first_name + last_name). */
export interface SplitColumn {
  column: string;
  into: { name: string; type: string; up: string }[];
  down: string;
}

const INTO: readonly FieldDecl[] = [
  { name: 'name', type: 'string', required: true, description: 'the new column name' },
  { name: 'type', type: 'string', required: true, description: 'the new column type' },
  { name: 'up', type: 'string', required: true, description: 'an up expression computing it from the column split' },
];

const FIELDS: readonly FieldDecl[] = [
  { name: 'column', type: 'string', required: true, description: 'the column to split' },
  { name: 'into', type: 'objects', required: true, description: 'the list of new columns', fields: INTO },
  {
    name: 'down',
    type: 'string',
    required: true,
    description: 'a down expression computing the column split from the new columns',
  },
];

export const splitColumn: OperationDefinition<SplitColumn> = {
  kind: 'split_column',
  summary: 'One old column becomes several new ones, kept in sync both ways until contract drops the old one.',
  fields: FIELDS,
  touches: (op) => [op.column, ...op.into.map((c) => c.name)],
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    const column = checkExistingName(`${field}.column`, need('column'));
    const into = need('into');
    if (!Array.isArray(into) || into.length === 0)
      throw new SpecError(`${field}.into`, 'must be a non-empty list of new columns');
    const parsed = into.map((raw, i) => {
      const f = `${field}.into[${i}]`;
      const get = readFields(f, expectObject(f, raw), INTO);
      return {
        name: checkNewName(`${f}.name`, get('name')),
        type: checkType(`${f}.type`, get('type')),
        up: checkExpression(`${f}.up`, get('up')),
      };
    });
    const down = checkExpression(`${field}.down`, need('down'));
    return { column, into: parsed, down };
  },
  resolve(op, table: TableInfo, field): ColumnMapping {
    existingColumn(table, `${field}.column`, op.column);
    op.into.forEach((c, i) => absentColumn(table, `${field}.into[${i}].name`, c.name));
    return {
      kind: 'split_column',
      field,
      label: `split_column ${op.column}`,
      oldColumns: [op.column],
      newColumns: op.into.map((c, i) => ({
        field: `${field}.into[${i}]`,
        name: c.name,
        type: c.type,
        up: c.up,
        notNull: false,
      })),
      down: { [op.column]: op.down },
    };
  },
};
