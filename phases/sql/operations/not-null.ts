import { withInPlaceNotNull } from './not-null-in-place';
import { CatalogError, SpecError } from '../../errors';
import { checkExpression } from '../expression';
import {
  checkExistingName,
  checkNewName,
  fitIdentifier,
  MAX_IDENTIFIER_BYTES,
  quoteIdent,
  quoteLiteral,
} from '../identifiers';
import { PENDING_COLUMN } from '../spec';
import { FAILED_COLUMN } from '../plans/sync-function';
import { evaluationSetClauses } from '../plans/evaluation-settings';
import { absentColumn, existingColumn } from './fields';
import { FieldDecl, readFields } from './declared-fields';
import { createHash } from 'crypto';
import { BODY_TAG } from '../expression';
import { quoteQualified } from '../identifiers';
import { tableSql } from './object-fields';
import { carriedProperties } from './carried-properties';
import { ColumnMapping, ObjectContext, ObjectWork, OperationDefinition, TableColumn, TableInfo } from './operation';

/**
 * set_not_null / drop_not_null, the way that alters no old write: as change_type does, the column
 * with the new NULL-ness is a new column (`into`, default `<column>_new`) of the same type that the
 * new versions address, kept in sync both ways, and the old column is dropped at contract.
 * - set_not_null: the old versions may still write NULL, and a NOT NULL on their column would
 *   refuse it. `into` gets `coalesce(column, up)` and is NOT NULL the safe way (CHECK NOT VALID,
 *   validated at contract, then SET NOT NULL without a scan). `up` is required: without it an old
 *   version's NULL would be refused by that check.
 * - drop_not_null: the new versions may write NULL, which the old versions' column cannot hold and
 *   they may not expect to read; `down` gives the old column its value for such rows.
 * The column's default moves to `into` at contract.
 */
export interface SetNotNull {
  column: string;
  into: string;
  up: string;
}

export interface DropNotNull {
  column: string;
  into: string;
  down: string;
}

function into(field: string, column: string, value: unknown): string {
  const fallback = `${column}_new`;
  if (value === undefined && Buffer.byteLength(fallback) > MAX_IDENTIFIER_BYTES) {
    throw new SpecError(
      `${field}.into`,
      `is needed: the default name "${fallback}" is over ${MAX_IDENTIFIER_BYTES} bytes`,
    );
  }
  return checkNewName(`${field}.into`, value ?? fallback);
}

/**
 * An INSERT that leaves both sides NULL is a write of neither side to the sync trigger, so it
 * derives nothing; this trigger, after the sync trigger (BEFORE triggers fire in name order), gives
 * `target` its value from `expr` over the row then: an old version's NULL into a set_not_null
 * column gets `up` in the new column, a new version's NULL into a drop_not_null column gets `down`
 * in the old one. Its only condition is inside the function, so no column depends on it.
 * Guarded as the sync trigger is: an `expr` that raises, or gives NULL for the new NOT NULL column,
 * never fails the write; the row is flagged for verify and repair (`_tandem_sync_failed`, keyed by
 * the operation's index among the column operations, with the side the writer wrote).
 */
function fillTrigger(
  ctx: ObjectContext,
  field: string,
  label: string,
  kind: 'set_not_null' | 'drop_not_null',
  target: string,
  source: string,
  expr: string,
): ObjectWork {
  const base = ctx.migration.replace(/-/g, '_');
  const hash = createHash('sha256').update(field).digest('hex').slice(0, 10);
  const fn = quoteQualified('tandem', fitIdentifier(`fill_${base}_${hash}`));
  const trigger = quoteIdent(fitIdentifier(`zzz_tandem_fill_${base}_${hash}`));
  const t = tableSql(ctx.table);
  const index = Math.max(0, ctx.columnOperations?.indexOf(field) ?? 0);
  const key = quoteLiteral(String(index));
  // set_not_null fills the new column (the old side was written); drop_not_null fills the old one (the new side was).
  const side = kind === 'set_not_null' ? 'old' : 'new';
  const failed = quoteIdent(FAILED_COLUMN);
  const body = [
    'BEGIN',
    `  IF NEW.${quoteIdent(target)} IS NULL AND NEW.${quoteIdent(source)} IS NULL THEN`,
    '    BEGIN',
    `      NEW.${quoteIdent(target)} := (SELECT (${expr}) FROM (SELECT NEW.*) AS ${quoteIdent(ctx.table.name)});`,
    ...(kind === 'set_not_null'
      ? [
          `      IF NEW.${quoteIdent(target)} IS NULL THEN RAISE EXCEPTION USING ERRCODE = 'not_null_violation', MESSAGE = ${quoteLiteral(`up gave NULL for ${target}, which is NOT NULL`)}; END IF;`,
        ]
      : []),
    '    EXCEPTION WHEN OTHERS THEN',
    `      NEW.${failed} := coalesce(NEW.${failed}, '{}') || jsonb_build_object(${key}, jsonb_build_object('side', '${side}', 'error', SQLERRM, 'sqlstate', SQLSTATE));`,
    `      NEW.${quoteIdent(PENDING_COLUMN)} := NULL;`,
    '    END;',
    '  END IF;',
    '  RETURN NEW;',
    'END',
  ].join('\n');
  return {
    kind,
    field,
    label,
    expand: [
      {
        id: `fill-function-${target}`,
        sql: `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql ${evaluationSetClauses()} AS ${BODY_TAG}\n${body}\n${BODY_TAG}`,
      },
      {
        id: `fill-trigger-${target}`,
        sql: `CREATE TRIGGER ${trigger} BEFORE INSERT OR UPDATE ON ${t} FOR EACH ROW WHEN (current_setting('tandem.backfill', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION ${fn}()`,
      },
    ],
    contract: [
      { id: `drop-fill-trigger-${target}`, sql: `DROP TRIGGER IF EXISTS ${trigger} ON ${t}` },
      { id: `drop-fill-function-${target}`, sql: `DROP FUNCTION IF EXISTS ${fn}()` },
    ],
    rollback: [
      { id: `drop-fill-trigger-${target}`, sql: `DROP TRIGGER IF EXISTS ${trigger} ON ${t}` },
      { id: `drop-fill-function-${target}`, sql: `DROP FUNCTION IF EXISTS ${fn}()` },
    ],
  };
}

function carriedDefault(old: TableColumn) {
  return old.defaultExpr !== undefined ? { default: old.defaultExpr, defaultAt: 'contract' as const } : {};
}

const INTO: FieldDecl = { name: 'into', type: 'string', description: "the new column's name (default <column>_new)" };

const SET_FIELDS: readonly FieldDecl[] = [
  { name: 'column', type: 'string', required: true, description: 'the column that becomes NOT NULL' },
  {
    name: 'up',
    type: 'string',
    required: true,
    description: 'an up expression giving the new column a value where the column is NULL',
  },
  INTO,
];

const DROP_FIELDS: readonly FieldDecl[] = [
  { name: 'column', type: 'string', required: true, description: 'the column that may hold NULL' },
  {
    name: 'down',
    type: 'string',
    required: true,
    description: 'a down expression giving the column a value when the new versions write NULL',
  },
  INTO,
];

const newColumnNotNull: OperationDefinition<SetNotNull> = {
  kind: 'set_not_null',
  summary:
    "The column becomes NOT NULL in a new column (into) that old versions' NULLs reach as up; the old column is dropped at contract.",
  fields: SET_FIELDS,
  touches: (op) => [op.column, op.into],
  mapping: { replacesColumn: true },
  landsUnderNewName: (op) => ({ column: op.column, into: op.into }),
  parse(body, field) {
    const need = readFields(field, body, SET_FIELDS);
    const column = checkExistingName(`${field}.column`, need('column'));
    // Required: an old version's NULL must become a value in the NOT NULL column, or its write would be refused.
    const up = checkExpression(`${field}.up`, need('up'));
    return { column, into: into(field, column, body.into), up };
  },
  resolve(op, table: TableInfo, field): ColumnMapping {
    const old = existingColumn(table, `${field}.column`, op.column);
    if (old.notNull) throw new CatalogError(`${field}.column`, op.column, `column "${op.column}" is already NOT NULL`);
    absentColumn(table, `${field}.into`, op.into);
    const q = quoteIdent(op.column);
    return {
      kind: 'set_not_null',
      field,
      label: `set_not_null ${op.column} -> ${op.into}`,
      oldColumns: [op.column],
      newColumns: [
        {
          field: `${field}.into`,
          name: op.into,
          type: old.type,
          up: `coalesce(${q}, (${op.up}))`,
          notNull: true,
          ...carriedDefault(old),
          ...carriedProperties(old, `${field}.column`),
        },
      ],
      down: { [op.column]: quoteIdent(op.into) },
    };
  },
  objects(op, ctx, field): ObjectWork {
    return fillTrigger(
      ctx,
      field,
      `set_not_null ${op.column} -> ${op.into}`,
      'set_not_null',
      op.into,
      op.column,
      op.up,
    );
  },
};

/** With `up`: on a new column; without: in place (not-null-in-place.ts). */
export const setNotNull = withInPlaceNotNull(newColumnNotNull);

export const dropNotNull: OperationDefinition<DropNotNull> = {
  kind: 'drop_not_null',
  summary:
    "The column may hold NULL in a new column (into); new versions' NULLs reach the old column as down; the old column is dropped at contract.",
  fields: DROP_FIELDS,
  touches: (op) => [op.column, op.into],
  mapping: { replacesColumn: true },
  landsUnderNewName: (op) => ({ column: op.column, into: op.into }),
  parse(body, field) {
    const need = readFields(field, body, DROP_FIELDS);
    const column = checkExistingName(`${field}.column`, need('column'));
    const down = checkExpression(`${field}.down`, need('down'));
    return { column, into: into(field, column, body.into), down };
  },
  resolve(op, table: TableInfo, field): ColumnMapping {
    const old = existingColumn(table, `${field}.column`, op.column);
    if (!old.notNull) throw new CatalogError(`${field}.column`, op.column, `column "${op.column}" is not NOT NULL`);
    absentColumn(table, `${field}.into`, op.into);
    return {
      kind: 'drop_not_null',
      field,
      label: `drop_not_null ${op.column} -> ${op.into}`,
      oldColumns: [op.column],
      newColumns: [
        {
          field: `${field}.into`,
          name: op.into,
          type: old.type,
          up: quoteIdent(op.column),
          notNull: false,
          ...carriedDefault(old),
          ...carriedProperties(old, `${field}.column`, { nullable: true }),
        },
      ],
      down: { [op.column]: `coalesce(${quoteIdent(op.into)}, (${op.down}))` },
    };
  },
  objects(op, ctx, field): ObjectWork {
    return fillTrigger(
      ctx,
      field,
      `drop_not_null ${op.column} -> ${op.into}`,
      'drop_not_null',
      op.column,
      op.into,
      op.down,
    );
  },
};
