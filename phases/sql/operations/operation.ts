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
  /** The default calls a volatile function (gen_random_uuid(), clock_timestamp(), nextval), or the column is an identity: a second evaluation differs. */
  readonly volatileDefault?: boolean;
  /** What a column Tandem builds in its place keeps (absent in states recorded before it was read). */
  readonly properties?: ColumnProperties;
}

/** A schema-qualified catalog name (collation, sequence, role). */
export interface QualifiedName {
  readonly schema: string;
  readonly name: string;
}

/** An identity column's kind and its sequence's options, as pg_sequence holds them (numbers as text: int8). */
export interface IdentityProperties {
  /** `a`: GENERATED ALWAYS, `d`: BY DEFAULT. */
  readonly kind: 'a' | 'd';
  readonly sequence: QualifiedName;
  readonly increment: string;
  readonly min: string;
  readonly max: string;
  readonly start: string;
  readonly cache: string;
  readonly cycle: boolean;
}

/** A column privilege (GRANT SELECT (c) ...): the grantee (`PUBLIC` when null), the privilege, WITH GRANT OPTION. */
export interface ColumnGrant {
  readonly grantee: string | null;
  readonly privilege: string;
  readonly grantable: boolean;
}

/**
 * The properties of a live column that are not its type, NOT NULL or default, read from the
 * catalog: what a column Tandem builds in its place (rename_column, change_type, set_not_null,
 * drop_not_null) carries over, or refuses to replace.
 */
export interface ColumnProperties {
  /** Its collation, when it is not its type's default. */
  readonly collation?: QualifiedName;
  readonly identity?: IdentityProperties;
  /** A GENERATED ... STORED column. */
  readonly generated?: boolean;
  /** Generated columns whose expression reads this column. */
  readonly usedByGenerated?: readonly string[];
  /** A sequence this column owns (serial, OWNED BY) that is not an identity's. */
  readonly ownedSequence?: QualifiedName;
  readonly comment?: string;
  /** attstorage, when it is not its type's default (p, e, m, x). */
  readonly storage?: string;
  /** attcompression, when set (pglz, lz4). */
  readonly compression?: string;
  /** attstattarget, when set (not -1). */
  readonly statistics?: number;
  /** attoptions (`n_distinct=100`, ...). */
  readonly options?: readonly string[];
  readonly grants?: readonly ColumnGrant[];
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
   * versions' inserts get `up` meanwhile; the default serves the new versions once they alone write),
   * or `add`: a constant default given in ADD COLUMN itself, which PostgreSQL 11+ records in the
   * catalog for every existing row at once (no rewrite, no backfill).
   */
  readonly defaultAt?: 'expand' | 'contract' | 'add';
  /** Enforced the safe way: CHECK (col IS NOT NULL) NOT VALID at expand, validated and SET NOT NULL at contract. */
  readonly notNull: boolean;
  /**
   * What the new column takes over from the column it replaces (see carried-properties.ts): set at
   * expand (collation in ADD COLUMN; comment, storage, compression, statistics, options, column
   * grants after it), or at contract (the identity and its sequence's position, an owned sequence).
   */
  readonly carried?: CarriedProperties;
}

export interface CarriedProperties {
  /** The column it replaces, whose identity or owned sequence moves at contract. */
  readonly from: string;
  readonly collation?: QualifiedName;
  /** Moved at contract; `sameType` false keeps the new type's own bounds (min/max not copied). */
  readonly identity?: IdentityProperties & { readonly sameType: boolean };
  readonly ownedSequence?: QualifiedName;
  readonly comment?: string;
  readonly storage?: string;
  readonly compression?: string;
  readonly statistics?: number;
  readonly options?: readonly string[];
  readonly grants?: readonly ColumnGrant[];
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

/** The spec keywords of the operations: the keys of the registry (index.ts). */
export type { OperationKind } from './registry';
import type { OperationKind } from './registry';
import type { FieldDecl } from './declared-fields';

/**
 * The one lifecycle every operation satisfies. An operation contributes column work (a
 * ColumnMapping: `resolve`), object work (indexes, constraints, defaults, tables, raw SQL: `objects`,
 * whose ObjectWork carries each lifecycle slot), or both. Column operations each own their
 * columns; object operations may name any column, old or new (`objectOnly`). What the planners
 * need to know about an operation beyond its plan is a fact declared here, never a check on its kind.
 */
export interface OperationDefinition<T> {
  readonly kind: OperationKind;
  /** One sentence: what the operation does (the JSON Schema's description). */
  readonly summary: string;
  /** Its fields, declared once: the parser's known keys and missing-field messages and the JSON Schema come from them. */
  readonly fields: readonly FieldDecl[];
  /** The operation changes no column itself: it may name columns other operations add or keep. */
  readonly objectOnly?: boolean;
  /** Offline validation of the operation's body; throws SpecError naming the field. */
  parse(body: Record<string, unknown>, field: string): T;
  /** The columns a column operation touches (old and new), offline: no column may be in two operations. */
  touches?(op: T): readonly string[];
  /** The names an object operation creates (indexes, constraints and tables share names in a schema), offline. */
  creates?(op: T): readonly string[];
  /** It names its own table (or none) rather than working on the spec's (create_table, drop_table, raw_sql): a spec of such operations needs no `table`. */
  readonly ownTable?: boolean;
  /**
   * The column it leaves under a new name although the user changed only its type, NULL-ness or
   * values (`into`), for `tandem plan`'s landing follow-up (landing.ts); undefined when none.
   */
  landsUnderNewName?(op: T): { readonly column: string; readonly into: string } | undefined;
  /** The tables it creates (planned before the object work, so other operations may name them). */
  createsTables?(op: T): readonly string[];
  /** The rules rows must keep once it is done (a rehearsal's generated rows and traffic keep them). */
  rules?(op: T): {
    readonly checks?: readonly { name: string; check: string }[];
    readonly uniques?: readonly string[][];
  };
  /** The old columns the parsed operation reads (checked against the catalog by the resolver). */
  resolve?(op: T, table: TableInfo, field: string): ColumnMapping | undefined;
  /** Facts about its ColumnMapping that the planners read (defaults below when absent). */
  readonly mapping?: MappingFacts;
  /** The object work of the operation, planned as data against the live table and the spec's column work. */
  objects?(op: T, context: ObjectContext, field: string): ObjectWork;
}

/** Facts about a column operation's mapping, read by the planners through the registry (also for a mapping recorded at expand). */
export interface MappingFacts {
  /** false: the operation has no old side (add_column): a new column's `up` is its fill, not a side verify compares, and what a new version wrote into it is lost by a rollback. Default true. */
  readonly oldSide?: boolean;
  /** Where the `down` of an old column lives in the spec; default `<field>.down`. */
  downField?(field: string, old: string): string;
  /** Where the `up` of a new column lives in the spec; default `<column field>.up`. */
  upField?(column: NewColumn): string;
  /** The one new column takes the one old column's place: the old column's indexes and constraints follow it (carried-objects-sql.ts). */
  readonly replacesColumn?: boolean;
  /** A new column's default is the old column's default, converted: validate runs the conversion, naming the type. */
  readonly convertsOldDefault?: boolean;
  /** The new column takes the old column's type: the advice when that type is a domain ADD COLUMN would rewrite the table for (`base`: its base type). */
  sameTypeAdvice?(base: string): string;
}

/** What object work is planned against: the live table and what the spec's column operations do to it. */
export interface ObjectContext {
  /** The spec's name (`[a-z0-9-]{1,40}`), for names Tandem derives. */
  readonly migration: string;
  readonly table: TableInfo;
  /** Columns the spec's column operations add at expand. */
  readonly newColumns: readonly NewColumn[];
  /** The fields of the spec's column operations, in order: an operation's index in the sync trigger's bookkeeping (`_tandem_sync_failed`). */
  readonly columnOperations?: readonly string[];
  /** Columns the spec's column operations drop at contract. */
  readonly droppedColumns: readonly string[];
  /** Tables the spec's create_table operations create (schema-qualified, unquoted `schema.name`). */
  readonly createdTables: readonly string[];
}

/** One statement, run inside a step's transaction. */
export interface ObjectStatement {
  readonly id: string;
  readonly sql: string;
  /** The user's own SQL (raw_sql): the executor checks after it that the transaction, its bounds and role are intact. */
  readonly untrusted?: boolean;
}

/**
 * A step outside the step's own transaction, idempotent and resumable:
 * - `transaction`: one short transaction under lock_timeout, skipped when `unless` returns a row;
 *   when PostgreSQL rejects the data (class 23), `onDataError.undo` runs and the step is refused;
 *   with `scans`, no statement_timeout (see below).
 * - `index_build`: CREATE INDEX CONCURRENTLY (no transaction block), skipped when the index is
 *   valid; an INVALID leftover of a failed or killed build is dropped concurrently and rebuilt. On
 *   a partitioned table: per partition, then attached to an index ON ONLY the table.
 * - `index_drop`: DROP INDEX CONCURRENTLY IF EXISTS; a partitioned index (which has no concurrent
 *   drop) in a short transaction under lock_timeout and the hold bounds, catalog only.
 */
export type ObjectTask =
  | {
      readonly kind: 'transaction';
      readonly id: string;
      readonly sql: string;
      readonly unless?: string;
      readonly onDataError?: { readonly undo: string; readonly hint: string };
      /**
       * The statement scans the table under a lock no app write waits on (VALIDATE CONSTRAINT:
       * SHARE UPDATE EXCLUSIVE, and ROW SHARE on a referenced table): it runs without
       * statement_timeout, as long as the table needs; the lock wait (lock_timeout) and the idle
       * bound stay.
       */
      readonly scans?: boolean;
      /** The statement that takes back what this step enforces (a contract that does not commit runs it). */
      readonly undo?: string;
    }
  | {
      readonly kind: 'index_build';
      readonly id: string;
      readonly schema: string;
      readonly index: string;
      readonly sql: string;
      readonly hint?: string;
      /** For a partitioned table, built per partition: UNIQUE or not, and what follows `ON table` (method, elements, INCLUDE, WHERE). */
      readonly unique?: boolean;
      readonly definition?: string;
    }
  | {
      readonly kind: 'index_drop';
      readonly id: string;
      readonly schema: string;
      readonly index: string;
      /** The spec built it (a rollback): on a partitioned table, partition indexes a killed build left unattached go too. */
      readonly created?: boolean;
    };

/** A verify check: a SELECT of one row, `n` (bigint, 0 when it holds) and `sample` (text[] of up to 10 keys). */
export interface ObjectCheck {
  readonly label: string;
  readonly sql: string;
  /** What fixes a failed check, as the end of "contract refused: ...; <fix>": the cause's own way out. */
  readonly fix: string;
  /** What `n` counts: rows (the sample holds their keys), or a missing index (n is 1, the sample names it). */
  readonly counts: 'rows' | 'index';
}

/** A catalog condition: the SELECT returns a row (column `what`) when it does NOT hold, and the step refuses. */
export interface CatalogCondition {
  readonly field: string;
  readonly objectName: string;
  readonly sql: string;
  readonly message: string;
}

export interface ObjectWork {
  readonly kind: OperationKind;
  readonly field: string;
  readonly label: string;
  /** Checked against the catalog before expand (validate, expand): CatalogError naming the field. */
  readonly live?: readonly CatalogCondition[];
  /** Run in validate's rolled-back transaction on an empty temporary copy of the table (pg_temp, same name, new columns added). */
  readonly trial?: readonly ObjectStatement[];
  /** Inside expand's transaction, after the columns. */
  readonly expand?: readonly ObjectStatement[];
  /** After expand commits (and again on every expand re-run until done). */
  readonly afterExpand?: readonly ObjectTask[];
  /** Verify: each check must return n = 0 before contract. */
  readonly checks?: readonly ObjectCheck[];
  /** Contract refuses while one of these returns a row (e.g. foreign keys into a table it drops). */
  readonly contractBlockers?: readonly CatalogCondition[];
  /** Before contract's transaction, when only the new versions run: what is enforced only from now on. */
  readonly beforeContract?: readonly ObjectTask[];
  /** Inside contract's transaction. */
  readonly contract?: readonly ObjectStatement[];
  /** After contract commits (and again on every contract re-run). */
  readonly afterContract?: readonly ObjectTask[];
  /** Indexes (`schema.name`) the spec drops at contract: they do not block the drop of a column. */
  readonly dropsIndexes?: readonly string[];
  /** Tables the spec creates at expand (rollback drops them with what the new versions wrote) / drops at contract: `{ schema, name }`. */
  readonly createsTables?: readonly { readonly schema: string; readonly name: string }[];
  readonly dropsTables?: readonly { readonly schema: string; readonly name: string }[];
  /** Rollback, before its transaction (concurrent drops), then inside it. */
  readonly beforeRollback?: readonly ObjectTask[];
  readonly rollback?: readonly ObjectStatement[];
}

/** A parsed operation, tagged by kind. */
export interface ParsedOperation {
  readonly kind: OperationKind;
  readonly field: string;
  readonly body: unknown;
}
