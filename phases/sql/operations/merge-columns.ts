import { SpecError } from '../../errors';
import { checkExpression } from '../expression';
import { checkExistingName, checkNewName, checkType } from '../identifiers';
import { absentColumn, existingColumn, expectKeys, expectObject, required } from './fields';
import { ColumnMapping, OperationDefinition, TableInfo } from './operation';

/** merge_columns: several old columns become one new one (split_column's inverse). */
export interface MergeColumns {
  columns: string[];
  into: { name: string; type: string; up: string };
  /** For each old column, how to compute it from the merged one. */
  down: Record<string, string>;
}

export const mergeColumns: OperationDefinition<MergeColumns> = {
  kind: 'merge_columns',
  parse(body, field) {
    expectKeys(field, body, ['columns', 'into', 'down']);
    const columns = required(`${field}.columns`, body.columns, 'the columns to merge');
    if (!Array.isArray(columns) || columns.length < 2) throw new SpecError(`${field}.columns`, 'must list at least two columns to merge');
    const names = columns.map((c, i) => checkExistingName(`${field}.columns[${i}]`, c));
    if (new Set(names).size !== names.length) throw new SpecError(`${field}.columns`, 'lists a column twice');
    const into = expectObject(`${field}.into`, required(`${field}.into`, body.into, 'the merged column'));
    expectKeys(`${field}.into`, into, ['name', 'type', 'up']);
    const down = expectObject(`${field}.down`, required(`${field}.down`, body.down, 'a down expression for each merged column'));
    for (const key of Object.keys(down)) {
      if (!names.includes(key)) throw new SpecError(`${field}.down.${key}`, `is not one of the merged columns (${names.join(', ')})`);
    }
    const parsedDown: Record<string, string> = {};
    for (const name of names) {
      parsedDown[name] = checkExpression(`${field}.down.${name}`, required(`${field}.down.${name}`, down[name], `a down expression computing ${name} from the merged column`));
    }
    return {
      columns: names,
      into: {
        name: checkNewName(`${field}.into.name`, required(`${field}.into.name`, into.name, 'the merged column name')),
        type: checkType(`${field}.into.type`, required(`${field}.into.type`, into.type, 'the merged column type')),
        up: checkExpression(`${field}.into.up`, required(`${field}.into.up`, into.up, 'an up expression computing it from the old columns')),
      },
      down: parsedDown,
    };
  },
  resolve(op, table: TableInfo, field): ColumnMapping {
    op.columns.forEach((c, i) => existingColumn(table, `${field}.columns[${i}]`, c));
    absentColumn(table, `${field}.into.name`, op.into.name);
    return {
      kind: 'merge_columns',
      field,
      label: `merge_columns ${op.columns.join(', ')}`,
      oldColumns: op.columns,
      newColumns: [{ field: `${field}.into`, name: op.into.name, type: op.into.type, up: op.into.up, notNull: false }],
      down: op.down,
    };
  },
};
