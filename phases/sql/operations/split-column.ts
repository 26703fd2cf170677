import { SpecError } from '../../errors';
import { checkExpression } from '../expression';
import { checkExistingName, checkNewName, checkType } from '../identifiers';
import { absentColumn, existingColumn, expectKeys, expectObject, required } from './fields';
import { ColumnMapping, OperationDefinition, TableInfo } from './operation';

/** split_column: one old column becomes several new ones (the talk's full_name -> first_name + last_name). */
export interface SplitColumn {
  column: string;
  into: { name: string; type: string; up: string }[];
  down: string;
}

export const splitColumn: OperationDefinition<SplitColumn> = {
  kind: 'split_column',
  parse(body, field) {
    expectKeys(field, body, ['column', 'into', 'down']);
    const column = checkExistingName(`${field}.column`, required(`${field}.column`, body.column, 'the column to split'));
    const into = required(`${field}.into`, body.into, 'the list of new columns');
    if (!Array.isArray(into) || into.length === 0) throw new SpecError(`${field}.into`, 'must be a non-empty list of new columns');
    const parsed = into.map((raw, i) => {
      const f = `${field}.into[${i}]`;
      const col = expectObject(f, raw);
      expectKeys(f, col, ['name', 'type', 'up']);
      return {
        name: checkNewName(`${f}.name`, required(`${f}.name`, col.name, 'the new column name')),
        type: checkType(`${f}.type`, required(`${f}.type`, col.type, 'the new column type')),
        up: checkExpression(`${f}.up`, required(`${f}.up`, col.up, `an up expression computing it from ${column}`)),
      };
    });
    const down = checkExpression(`${field}.down`, required(`${field}.down`, body.down, `a down expression computing ${column} from the new columns`));
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
      newColumns: op.into.map((c, i) => ({ field: `${field}.into[${i}]`, name: c.name, type: c.type, up: c.up, notNull: false })),
      down: { [op.column]: op.down },
    };
  },
};
