/**
 * The one lifecycle every operation satisfies (pgroll's `Operation` interface, in our terms):
 * `parse` validates the spec offline; `resolve` checks it against the live table and returns a
 * ColumnMapping, the data every step's SQL is planned from. Expand adds `newColumns`; the sync
 * trigger and the backfill fill them with `up`; writers of the new side alone get the old columns
 * filled with `down`; contract drops `oldColumns`.
 */

export interface TableColumn {
  readonly name: string;
  /** format_type() of the column, e.g. `character varying(20)`. */
  readonly type: string;
  readonly notNull: boolean;
  readonly hasDefault: boolean;
  /** pg_get_expr of the column default, when it has one. */
  readonly defaultExpr?: string;
  /** The default calls a volatile function (gen_random_uuid(), clock_timestamp(), nextval): a second evaluation differs. */
  readonly volatileDefault?: boolean;
}

export interface TableInfo {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  readonly columns: readonly TableColumn[];
  readonly primaryKey: readonly TableColumn[];
}

export interface NewColumn {
  /** Where the column is declared in the spec, for messages. */
  readonly field: string;
  readonly name: string;
  readonly type: string;
  /** Expression over the old row that computes this column for old-side writers and the backfill. */
  readonly up?: string;
  /** A column default (an expression), set after the column is added so no table rewrite happens. */
  readonly default?: string;
  /**
   * When the default is set: at expand (inserts by old versions get it), or at contract (old
   * versions' inserts get `up` meanwhile; the default serves the new versions once they alone write).
   */
  readonly defaultAt?: 'expand' | 'contract';
  /** Enforced the safe way: CHECK (col IS NOT NULL) NOT VALID at expand, validated and SET NOT NULL at contract. */
  readonly notNull: boolean;
}

export interface ColumnMapping {
  readonly kind: OperationKind;
  /** Where the operation stands in the spec, e.g. `operations[0]`. */
  readonly field: string;
  /** A short human label, e.g. `split_column full_name`. */
  readonly label: string;
  /** Existing columns this operation retires: dropped at contract. */
  readonly oldColumns: readonly string[];
  /** Columns this operation adds at expand. */
  readonly newColumns: readonly NewColumn[];
  /** For each old column, an expression over the new row that computes it for new-side writers. */
  readonly down: Readonly<Record<string, string>>;
}

export type OperationKind = 'split_column' | 'merge_columns' | 'rename_column' | 'add_column' | 'drop_column' | 'change_type';

export interface OperationDefinition<T> {
  readonly kind: OperationKind;
  /** Offline validation of the operation's body; throws SpecError naming the field. */
  parse(body: Record<string, unknown>, field: string): T;
  /** The old columns the parsed operation reads (checked against the catalog by the resolver). */
  resolve(op: T, table: TableInfo, field: string): ColumnMapping;
}

/** A parsed operation, tagged by kind. */
export interface ParsedOperation {
  readonly kind: OperationKind;
  readonly field: string;
  readonly body: unknown;
}
