import { checkExpression } from '../expression';
import { checkExistingName } from '../identifiers';
import { existingColumn } from './fields';
import { FieldDecl, readFields } from './declared-fields';
import { ColumnMapping, OperationDefinition, TableInfo } from './operation';

/**
 * drop_column: the column stays until contract; meanwhile inserts by versions that no longer
 * write it get it from `down` (so a NOT NULL column does not break them).
 */
export interface DropColumn {
  column: string;
  down: string;
}

const FIELDS: readonly FieldDecl[] = [
  { name: 'column', type: 'string', required: true, description: 'the column to drop' },
  {
    name: 'down',
    type: 'string',
    required: true,
    description: 'a down expression computing the column for versions that no longer write it',
  },
];

export const dropColumn: OperationDefinition<DropColumn> = {
  kind: 'drop_column',
  summary: 'A column stays until contract; inserts by versions that no longer write it get it from down.',
  fields: FIELDS,
  touches: (op) => [op.column],
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    const column = checkExistingName(`${field}.column`, need('column'));
    const down = checkExpression(`${field}.down`, need('down'));
    return { column, down };
  },
  resolve(op, table: TableInfo, field): ColumnMapping {
    existingColumn(table, `${field}.column`, op.column);
    return {
      kind: 'drop_column',
      field,
      label: `drop_column ${op.column}`,
      oldColumns: [op.column],
      newColumns: [],
      down: { [op.column]: op.down },
    };
  },
};
