import { addCheck } from './add-check';
import { addColumn } from './add-column';
import { addForeignKey } from './add-foreign-key';
import { addUnique } from './add-unique';
import { changeType } from './change-type';
import { createIndex } from './create-index';
import { dropColumn } from './drop-column';
import { dropIndex } from './drop-index';
import { mergeColumns } from './merge-columns';
import { dropNotNull, setNotNull } from './not-null';
import { OperationDefinition, OperationKind } from './operation';
import { rawSql } from './raw-sql';
import { renameColumn } from './rename-column';
import { dropDefault, setDefault } from './set-default';
import { splitColumn } from './split-column';
import { createTable, dropTable, renameTable } from './tables';
import { renameInExpression, withDataFix } from './data-fix';
import { withInPlaceNotNull } from './not-null-in-place';

export * from './operation';

/** Every operation, by its spec keyword. */
export const OPERATIONS: Readonly<Record<OperationKind, OperationDefinition<any>>> = {
  split_column: splitColumn,
  merge_columns: mergeColumns,
  rename_column: renameColumn,
  add_column: addColumn,
  drop_column: dropColumn,
  change_type: changeType,
  set_not_null: withInPlaceNotNull(setNotNull),
  drop_not_null: dropNotNull,
  create_index: createIndex,
  drop_index: dropIndex,
  add_unique: withDataFix(addUnique, { columns: (op) => op.columns, rename: (op, from, to) => ({ ...op, columns: op.columns.map((c) => (c === from ? to : c)) }) }),
  add_foreign_key: withDataFix(addForeignKey, { columns: (op) => op.columns, rename: (op, from, to) => ({ ...op, columns: op.columns.map((c) => (c === from ? to : c)) }) }),
  add_check: withDataFix(addCheck, { columns: () => [], rename: (op, from, to, field) => ({ ...op, check: renameInExpression(op.check, from, to, `${field}.check`) }) }),
  set_default: setDefault,
  drop_default: dropDefault,
  create_table: createTable,
  drop_table: dropTable,
  rename_table: renameTable,
  raw_sql: rawSql,
};

export const OPERATION_KINDS = Object.keys(OPERATIONS) as OperationKind[];
