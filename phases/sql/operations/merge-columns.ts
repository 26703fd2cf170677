import { SpecError } from '../../errors';
import { checkExpression } from '../expression';
import { checkExistingName, checkNewName, checkType } from '../identifiers';
import { absentColumn, existingColumn, expectObject, required } from './fields';
import { FieldDecl, readFields } from './declared-fields';
import { ColumnMapping, OperationDefinition, TableInfo } from './operation';

/** merge_columns: several old columns become one new one (split_column's inverse). */
export interface MergeColumns {
  columns: string[];
  into: { name: string; type: string; up: string };
  /** For each old column, how to compute it from the merged one. */
  down: Record<string, string>;
}

const INTO: readonly FieldDecl[] = [
  { name: 'name', type: 'string', required: true, description: 'the merged column name' },
  { name: 'type', type: 'string', required: true, description: 'the merged column type' },
  { name: 'up', type: 'string', required: true, description: 'an up expression computing it from the old columns' },
];

const FIELDS: readonly FieldDecl[] = [
  { name: 'columns', type: 'strings', required: true, description: 'the columns to merge' },
  { name: 'into', type: 'object', required: true, description: 'the merged column', fields: INTO },
  { name: 'down', type: 'map', required: true, description: 'a down expression for each merged column' },
];

export const mergeColumns: OperationDefinition<MergeColumns> = {
  kind: 'merge_columns',
  summary: "Several old columns become one new one (split_column's inverse); each old column has its own down.",
  fields: FIELDS,
  touches: (op) => [...op.columns, op.into.name],
  mapping: { downField: (field, old) => `${field}.down.${old}` },
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    const columns = need('columns');
    if (!Array.isArray(columns) || columns.length < 2)
      throw new SpecError(`${field}.columns`, 'must list at least two columns to merge');
    const names = columns.map((c, i) => checkExistingName(`${field}.columns[${i}]`, c));
    if (new Set(names).size !== names.length) throw new SpecError(`${field}.columns`, 'lists a column twice');
    const into = readFields(`${field}.into`, expectObject(`${field}.into`, need('into')), INTO);
    const down = expectObject(`${field}.down`, need('down'));
    for (const key of Object.keys(down)) {
      if (!names.includes(key))
        throw new SpecError(`${field}.down.${key}`, `is not one of the merged columns (${names.join(', ')})`);
    }
    const parsedDown: Record<string, string> = {};
    for (const name of names) {
      parsedDown[name] = checkExpression(
        `${field}.down.${name}`,
        required(`${field}.down.${name}`, down[name], `a down expression computing ${name} from the merged column`),
      );
    }
    return {
      columns: names,
      into: {
        name: checkNewName(`${field}.into.name`, into('name')),
        type: checkType(`${field}.into.type`, into('type')),
        up: checkExpression(`${field}.into.up`, into('up')),
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
