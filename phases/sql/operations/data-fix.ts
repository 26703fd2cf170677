import { SpecError } from '../../errors';
import { rewriteColumns } from '../column-rewrite';
import { checkExpression } from '../expression';
import { checkExistingName, checkNewName, MAX_IDENTIFIER_BYTES, quoteIdent } from '../identifiers';
import { carriedProperties } from './carried-properties';
import { absentColumn, existingColumn } from './fields';
import { checkKeys, FieldDecl } from './declared-fields';
import { ColumnMapping, OperationDefinition, TableInfo } from './operation';

/**
 * A data fix for a constraint operation (add_check, add_unique, add_foreign_key): `up` rewrites
 * the values that would break the constraint, so contract needs no manual fix. As pgroll does it,
 * the constraint goes on a new column (`into`, default `<column>_new`) that holds `up(old)` for
 * every row, synced by the trigger while the old versions write the old column as they always did
 * (it is never constrained, so no old write fails); the new versions write the new column, and
 * `down` (default: the new value as it is) keeps the old column filled for the old versions. The
 * constraint is enforced on the new column as the operation does without a fix (before contract,
 * when only the new versions run); contract drops the old column. The column's other properties,
 * indexes and constraints follow it as for rename_column. Like every column replacement without
 * views, the result lives under the new name (see docs/operations/add_check.md).
 */
export interface DataFix {
  /** The column whose values `up` fixes. */
  readonly column: string;
  readonly into: string;
  readonly up: string;
  readonly down?: string;
}

export type WithFix<T> = T & { fix?: DataFix };

/** The columns of the operation's body that name the fixed column, replaced by `into` in the body the constraint is planned from. */
export interface FixShape<T> {
  /** The operation's own columns (the fixed column must be one of them, or they are the default). */
  columns(op: T): string[];
  /** The body with the fixed column renamed. */
  rename(op: T, from: string, to: string, field: string): T;
}

/** The data fix's fields, declared beside the operation's own (the parser and the JSON Schema read them). */
export const DATA_FIX_FIELDS: readonly FieldDecl[] = [
  {
    name: 'up',
    type: 'string',
    description:
      "a data fix: an expression giving each row's value of the column, fixed so the constraint holds (it lands on a new column, into)",
  },
  {
    name: 'down',
    type: 'string',
    description:
      "with up: an expression giving the old column's value from the fixed one (default: the fixed value as it is)",
  },
  {
    name: 'column',
    type: 'string',
    description: "with up: the column whose values up fixes (default: the operation's only column)",
  },
  {
    name: 'into',
    type: 'string',
    description: 'with up: the new column holding the fixed values (default <column>_new)',
  },
];

export function withDataFix<T>(def: OperationDefinition<T>, shape: FixShape<T>): OperationDefinition<WithFix<T>> {
  const fields = [...def.fields, ...DATA_FIX_FIELDS];
  return {
    ...def,
    fields,
    // With a fix the operation replaces a column (old and new name); without one it touches none.
    touches: (op) => (op.fix ? [op.fix.column, op.fix.into] : []),
    // The fix's mapping: an old side (the fixed column, which verify compares), its `down` in the
    // operation's `down`, its `up` in the operation's `up` (the new column's field); the new column
    // takes the old column's type.
    landsUnderNewName: (op) => (op.fix ? { column: op.fix.column, into: op.fix.into } : undefined),
    mapping: {
      replacesColumn: true,
      upField: (c) => c.field,
      sameTypeAdvice: (base) =>
        `the data fix puts the fixed values in a new column of the column's type, so Tandem cannot fix this column online; change the column to the base type ${base} with a CHECK constraint first, or fix the rows in a maintenance window`,
    },
    parse(body, field): WithFix<T> {
      checkKeys(field, body, fields);
      const { up, down, into, column, ...rest } = body;
      const op = def.parse(rest, field);
      if (up === undefined) {
        for (const [k, v] of Object.entries({ down, into, column }))
          if (v !== undefined) throw new SpecError(`${field}.${k}`, 'goes with `up`, the data fix, which is missing');
        return op as WithFix<T>;
      }
      const own = shape.columns(op);
      const fixed =
        column === undefined ? (own.length === 1 ? own[0] : undefined) : checkExistingName(`${field}.column`, column);
      if (fixed === undefined) throw new SpecError(`${field}.column`, 'is missing: the column whose values `up` fixes');
      const defaultInto = `${fixed}_new`;
      if (into === undefined && Buffer.byteLength(defaultInto) > MAX_IDENTIFIER_BYTES)
        throw new SpecError(
          `${field}.into`,
          `is needed: the default name "${defaultInto}" is over ${MAX_IDENTIFIER_BYTES} bytes`,
        );
      const fix: DataFix = {
        column: fixed,
        into: checkNewName(`${field}.into`, into ?? defaultInto),
        up: checkExpression(`${field}.up`, up),
        ...(down === undefined ? {} : { down: checkExpression(`${field}.down`, down) }),
      };
      return { ...shape.rename(op, fixed, fix.into, field), fix };
    },
    resolve(op, table: TableInfo, field): ColumnMapping | undefined {
      const fix = op.fix;
      if (!fix) return undefined;
      const old = existingColumn(table, `${field}.column`, fix.column);
      absentColumn(table, `${field}.into`, fix.into);
      return {
        kind: def.kind,
        field,
        label: `${def.kind} ${fix.column} -> ${fix.into} (values fixed by up)`,
        oldColumns: [fix.column],
        newColumns: [
          {
            field: `${field}.up`,
            name: fix.into,
            type: old.type,
            up: fix.up,
            notNull: old.notNull,
            ...carriedProperties(old, `${field}.column`),
            ...(old.defaultExpr !== undefined ? { default: old.defaultExpr, defaultAt: 'contract' as const } : {}),
          },
        ],
        down: { [fix.column]: fix.down ?? quoteIdent(fix.into) },
      };
    },
  };
}

/** A name in an expression (a check) renamed, or a SpecError naming the field when it cannot be. */
export function renameInExpression(expr: string, from: string, to: string, field: string): string {
  const r = rewriteColumns(expr, { [from]: to });
  if (r.leftover.length)
    throw new SpecError(
      field,
      `names ${from} where Tandem cannot tell it is the column (after a dot, before "(" or after "::"), so it cannot move the check to ${to}`,
    );
  return r.sql;
}
