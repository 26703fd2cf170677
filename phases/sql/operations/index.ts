import { addColumn } from './add-column';
import { changeType } from './change-type';
import { dropColumn } from './drop-column';
import { mergeColumns } from './merge-columns';
import { OperationDefinition, OperationKind } from './operation';
import { renameColumn } from './rename-column';
import { splitColumn } from './split-column';

export * from './operation';

/** Every operation, by its spec keyword. */
export const OPERATIONS: Readonly<Record<OperationKind, OperationDefinition<any>>> = {
  split_column: splitColumn,
  merge_columns: mergeColumns,
  rename_column: renameColumn,
  add_column: addColumn,
  drop_column: dropColumn,
  change_type: changeType,
};

export const OPERATION_KINDS = Object.keys(OPERATIONS) as OperationKind[];
