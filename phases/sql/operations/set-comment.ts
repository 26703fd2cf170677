import { SpecError } from '../../errors';
import { checkExistingName, quoteIdent, quoteLiteral, quoteQualified } from '../identifiers';
import { FieldDecl, readFields } from './declared-fields';
import { knownColumn } from './object-fields';
import { CatalogCondition, ObjectWork, OperationDefinition } from './operation';

/**
 * set_comment: sets (a string) or removes (`comment: null`) the comment of a table or of one of
 * its columns, inside contract's transaction (COMMENT ON, catalog only). A comment changes nothing
 * any version reads or writes, so it waits for contract, when the schema takes its final shape:
 * nothing to roll back before. The table is the spec's own unless `table` names another of its
 * schema (one that exists, or one this spec creates).
 */
export interface SetComment {
  table?: string;
  column?: string;
  comment: string | null;
}

const FIELDS: readonly FieldDecl[] = [
  { name: 'table', type: 'string', description: "the table, in the spec table's schema (default: the spec's table)" },
  { name: 'column', type: 'string', description: "the column whose comment it is (default: the table's own comment)" },
  { name: 'comment', type: 'string', required: true, nullable: true, description: 'the comment, or null to remove it' },
];

function commentText(field: string, value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || value.length === 0)
    throw new SpecError(field, 'must be a non-empty string, or null to remove the comment');
  if (value.includes('\0')) throw new SpecError(field, 'must not contain a NUL character');
  return value;
}

export const setComment: OperationDefinition<SetComment> = {
  kind: 'set_comment',
  summary: "Sets or (with null) removes the comment of a table or a column, inside contract's transaction.",
  fields: FIELDS,
  objectOnly: true,
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    const table = body.table === undefined ? undefined : checkExistingName(`${field}.table`, body.table);
    const column = body.column === undefined ? undefined : checkExistingName(`${field}.column`, body.column);
    return {
      ...(table !== undefined ? { table } : {}),
      ...(column !== undefined ? { column } : {}),
      comment: commentText(`${field}.comment`, need('comment')),
    };
  },
  objects(op, ctx, field): ObjectWork {
    const schema = ctx.table.schema;
    const name = op.table ?? ctx.table.name;
    const own = name === ctx.table.name;
    const created = ctx.createdTables.includes(`${schema}.${name}`);
    const live: CatalogCondition[] = [];
    if (own && op.column !== undefined) knownColumn(ctx, `${field}.column`, op.column);
    if (!own && !created) {
      const oid = `to_regclass(${quoteLiteral(quoteQualified(schema, name))})`;
      live.push({
        field: `${field}.table`,
        objectName: `${schema}.${name}`,
        sql: `SELECT 'missing' AS what WHERE NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = ${oid} AND relkind IN ('r', 'p'))`,
        message: `table ${schema}.${name} does not exist and this spec does not create it`,
      });
      if (op.column !== undefined) {
        live.push({
          field: `${field}.column`,
          objectName: op.column,
          sql: `SELECT 'missing' AS what WHERE NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = ${oid} AND attname = ${quoteLiteral(op.column)} AND attnum > 0 AND NOT attisdropped)`,
          message: `column "${op.column}" does not exist in table ${schema}.${name}`,
        });
      }
    }
    const target =
      op.column === undefined
        ? `TABLE ${quoteQualified(schema, name)}`
        : `COLUMN ${quoteQualified(schema, name)}.${quoteIdent(op.column)}`;
    const what = op.column === undefined ? name : `${name}.${op.column}`;
    return {
      kind: 'set_comment',
      field,
      label: `set_comment ${what}`,
      live,
      contract: [
        {
          id: `comment-${what}`,
          sql: `COMMENT ON ${target} IS ${op.comment === null ? 'NULL' : quoteLiteral(op.comment)}`,
        },
      ],
    };
  },
};
