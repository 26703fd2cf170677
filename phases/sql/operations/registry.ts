import { addCheck } from './add-check';
import { addColumn } from './add-column';
import { addForeignKey } from './add-foreign-key';
import { addUnique } from './add-unique';
import { changeType } from './change-type';
import { createIndex } from './create-index';
import { dropColumn } from './drop-column';
import { dropConstraint } from './drop-constraint';
import { dropIndex } from './drop-index';
import { mergeColumns } from './merge-columns';
import { dropNotNull, setNotNull } from './not-null';
import { OperationDefinition } from './operation';
import { rawSql } from './raw-sql';
import { renameColumn } from './rename-column';
import { renameConstraint } from './rename-constraint';
import { setComment } from './set-comment';
import { dropDefault, setDefault } from './set-default';
import { setReplicaIdentity } from './set-replica-identity';
import { splitColumn } from './split-column';
import { createTable, dropTable, renameTable } from './tables';

/**
 * Every operation, by its spec keyword: the only place besides its own file that names one.
 * The kind union (OperationKind) is derived from these keys.
 */
export const OPERATIONS = {
  split_column: splitColumn,
  merge_columns: mergeColumns,
  rename_column: renameColumn,
  add_column: addColumn,
  drop_column: dropColumn,
  change_type: changeType,
  set_not_null: setNotNull,
  drop_not_null: dropNotNull,
  create_index: createIndex,
  drop_index: dropIndex,
  add_unique: addUnique,
  add_foreign_key: addForeignKey,
  add_check: addCheck,
  set_default: setDefault,
  drop_default: dropDefault,
  create_table: createTable,
  drop_table: dropTable,
  rename_table: renameTable,
  raw_sql: rawSql,
  drop_constraint: dropConstraint,
  rename_constraint: renameConstraint,
  set_comment: setComment,
  set_replica_identity: setReplicaIdentity,
} as const;

export type OperationKind = keyof typeof OPERATIONS;

export const OPERATION_KINDS = Object.keys(OPERATIONS) as OperationKind[];

/**
 * The definition of a kind (also of one recorded in a migration's state). Each definition's parsed
 * type is its own; a caller hands back to it only what its own parse returned (ParsedOperation.body).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an existential type: see above
export function operationOf(kind: OperationKind): OperationDefinition<any> {
  return OPERATIONS[kind];
}
