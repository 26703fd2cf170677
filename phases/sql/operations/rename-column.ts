import { SpecError } from '../../errors';
import { checkExistingName, checkNewName, quoteIdent } from '../identifiers';
import { absentColumn, existingColumn, expectKeys, required } from './fields';
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

export const renameColumn: OperationDefinition<RenameColumn> = {
  kind: 'rename_column',
  parse(body, field) {
    expectKeys(field, body, ['from', 'to']);
    const from = checkExistingName(`${field}.from`, required(`${field}.from`, body.from, 'the column to rename'));
    const to = checkNewName(`${field}.to`, required(`${field}.to`, body.to, 'the new name'));
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
