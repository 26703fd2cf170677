import { checkExpression } from '../expression';
import { checkExistingName } from '../identifiers';
import { existingColumn, expectKeys, required } from './fields';
import { ColumnMapping, OperationDefinition, TableInfo } from './operation';

/**
 * drop_column: the column stays until contract; meanwhile inserts by versions that no longer
 * write it get it from `down` (so a NOT NULL column does not break them).
 */
export interface DropColumn {
  column: string;
  down: string;
}

export const dropColumn: OperationDefinition<DropColumn> = {
  kind: 'drop_column',
  parse(body, field) {
    expectKeys(field, body, ['column', 'down']);
    const column = checkExistingName(`${field}.column`, required(`${field}.column`, body.column, 'the column to drop'));
    const down = checkExpression(`${field}.down`, required(`${field}.down`, body.down, `a down expression computing ${column} for versions that no longer write it`));
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
