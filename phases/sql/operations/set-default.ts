import { CatalogError } from '../../errors';
import { checkExpression } from '../expression';
import { checkExistingName, quoteIdent } from '../identifiers';
import { FieldDecl, readFields } from './declared-fields';
import { knownColumn, tableSql } from './object-fields';
import { ObjectContext, ObjectWork, OperationDefinition } from './operation';

/**
 * set_default / drop_default: inside contract's transaction, a catalog-only change. Set earlier,
 * it would change what an old version's insert that omits the column stores; until contract the
 * new versions write the value themselves. Nothing to roll back before contract.
 */
export interface SetDefault {
  column: string;
  default: string;
}

export interface DropDefault {
  column: string;
}

function liveColumn(ctx: ObjectContext, field: string, column: string, added = false) {
  const c = knownColumn(ctx, field, column);
  // set_default may name a column the spec adds (change_type's new column, an add_column): set at contract, it replaces the one it had.
  if (added) return c;
  if (!ctx.table.columns.some((x) => x.name === column)) {
    // A column the spec adds takes its default in its own operation (add_column's `default`).
    throw new CatalogError(
      field,
      column,
      `column "${column}" is added by this spec: give it its default in its add_column`,
    );
  }
  return c;
}

const SET_FIELDS: readonly FieldDecl[] = [
  { name: 'column', type: 'string', required: true, description: 'the column whose default changes' },
  { name: 'default', type: 'scalar', required: true, description: 'the new default expression' },
];

const DROP_FIELDS: readonly FieldDecl[] = [
  { name: 'column', type: 'string', required: true, description: 'the column whose default goes' },
];

export const setDefault: OperationDefinition<SetDefault> = {
  kind: 'set_default',
  summary: "A column default, set inside contract's transaction (catalog only).",
  fields: SET_FIELDS,
  objectOnly: true,
  parse(body, field) {
    const need = readFields(field, body, SET_FIELDS);
    const column = checkExistingName(`${field}.column`, need('column'));
    const raw = need('default');
    return {
      column,
      default: checkExpression(
        `${field}.default`,
        typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : raw,
      ),
    };
  },
  objects(op, ctx, field): ObjectWork {
    const c = liveColumn(ctx, `${field}.column`, op.column, true);
    const set = (on: string) => `ALTER TABLE ${on} ALTER COLUMN ${quoteIdent(op.column)} SET DEFAULT (${op.default})`;
    return {
      kind: 'set_default',
      field,
      label: `set_default ${op.column}`,
      trial: [
        { id: `${field}.default`, sql: set(`pg_temp.${quoteIdent(ctx.table.name)}`) },
        { id: `${field}.default`, sql: `SELECT (${op.default})::${c.type}` },
      ],
      contract: [{ id: `set-default-${op.column}`, sql: set(tableSql(ctx.table)) }],
    };
  },
};

export const dropDefault: OperationDefinition<DropDefault> = {
  kind: 'drop_default',
  summary: "A column default dropped inside contract's transaction (catalog only).",
  fields: DROP_FIELDS,
  objectOnly: true,
  parse(body, field) {
    const need = readFields(field, body, DROP_FIELDS);
    return { column: checkExistingName(`${field}.column`, need('column')) };
  },
  objects(op, ctx, field): ObjectWork {
    liveColumn(ctx, `${field}.column`, op.column);
    return {
      kind: 'drop_default',
      field,
      label: `drop_default ${op.column}`,
      contract: [
        {
          id: `drop-default-${op.column}`,
          sql: `ALTER TABLE ${tableSql(ctx.table)} ALTER COLUMN ${quoteIdent(op.column)} DROP DEFAULT`,
        },
      ],
    };
  },
};
