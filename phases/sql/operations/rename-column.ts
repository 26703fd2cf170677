import { SpecError } from '../../errors';
import { checkExistingName, checkNewName, quoteIdent } from '../identifiers';
import { absentColumn, existingColumn } from './fields';
import { FieldDecl, readFields } from './declared-fields';
import { carriedProperties } from './carried-properties';
import { ColumnMapping, OperationDefinition, TableInfo } from './operation';

/**
 * rename_column: without views in front of the table, a rename is expand/contract too: `to` is
 * added with `from`'s type, kept equal to it both ways, and `from` is dropped at contract. A NOT
 * NULL `from` makes `to` NOT NULL the safe way (CHECK NOT VALID, validated at contract).
 */
export interface RenameColumn {
  from: string;
  to: string;
}

const FIELDS: readonly FieldDecl[] = [
  { name: 'from', type: 'string', required: true, description: 'the column to rename' },
  { name: 'to', type: 'string', required: true, description: 'the new name' },
];

export const renameColumn: OperationDefinition<RenameColumn> = {
  kind: 'rename_column',
  summary:
    'A column gets a new name: the new column is added with its type, kept equal both ways, and the old one dropped at contract.',
  fields: FIELDS,
  touches: (op) => [op.from, op.to],
  mapping: {
    replacesColumn: true,
    sameTypeAdvice: (base) =>
      `rename_column copies the column's type, so Tandem cannot rename this column online; change the column to the base type ${base} with a CHECK constraint first, or rename it in a maintenance window`,
  },
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    const from = checkExistingName(`${field}.from`, need('from'));
    const to = checkNewName(`${field}.to`, need('to'));
    if (from === to) throw new SpecError(`${field}.to`, `is the same as from ("${from}")`);
    return { from, to };
  },
  resolve(op, table: TableInfo, field): ColumnMapping {
    const from = existingColumn(table, `${field}.from`, op.from);
    absentColumn(table, `${field}.to`, op.to);
    return {
      kind: 'rename_column',
      field,
      label: `rename_column ${op.from} -> ${op.to}`,
      oldColumns: [op.from],
      newColumns: [
        {
          field: `${field}.to`,
          name: op.to,
          type: from.type,
          up: quoteIdent(op.from),
          notNull: from.notNull,
          ...carriedProperties(from, `${field}.from`),
          // `from`'s default moves to `to` when `from` goes; until then inserts get it through `from` and the trigger.
          ...(from.defaultExpr !== undefined ? { default: from.defaultExpr, defaultAt: 'contract' as const } : {}),
        },
      ],
      down: { [op.from]: quoteIdent(op.to) },
    };
  },
};
