import { SpecError } from '../../errors';
import { checkExpression } from '../expression';
import { checkNewName, checkType } from '../identifiers';
import { absentColumn, expectBoolean } from './fields';
import { FieldDecl, readFields } from './declared-fields';
import { ColumnMapping, OperationDefinition, TableInfo } from './operation';

/**
 * add_column: added nullable with no default (no table rewrite, no long lock). With only a
 * constant `default` (a literal), it is given in ADD COLUMN itself: catalog-only, every existing
 * row has it at once, nothing to backfill. With any other `default` only, it is set right after
 * the column (old versions' inserts get it) and the backfill fills existing rows with it. With an `up`, existing rows and old versions' inserts get up(row), and
 * the default (if any) is set at contract, for the new versions.
 * NOT NULL is a CHECK ... NOT VALID until contract validates it and sets NOT NULL without a scan.
 * v1 inserts get the column from the default or `up` through the sync trigger.
 */
/**
 * A literal (a number, a string, true/false, optionally cast to a plain type): ADD COLUMN ...
 * DEFAULT <literal> is catalog-only (PostgreSQL 11+ "fast default"), so existing rows need no
 * backfill. Anything else (now(), random(), nextval) is set after the column and backfilled.
 */
const CONSTANT =
  /^(?:[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|'(?:[^']|'')*'|true|false)(?:\s*::\s*[A-Za-z_][A-Za-z0-9_]*(?: [A-Za-z_][A-Za-z0-9_]*)*(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?)?$/i;

export function isConstantDefault(expr: string): boolean {
  return CONSTANT.test(expr.trim());
}

export interface AddColumn {
  name: string;
  type: string;
  default?: string;
  up?: string;
  notNull: boolean;
}

const FIELDS: readonly FieldDecl[] = [
  { name: 'name', type: 'string', required: true, description: 'the new column name' },
  { name: 'type', type: 'string', required: true, description: 'the new column type' },
  {
    name: 'default',
    type: 'scalar',
    description: 'its default (an SQL expression; a constant is set in ADD COLUMN itself, catalog only)',
  },
  {
    name: 'up',
    type: 'string',
    description: "an expression over the row giving existing rows and old versions' inserts their value",
  },
  { name: 'not_null', type: 'boolean', description: 'NOT NULL, enforced the safe way (needs a default or an up)' },
];

export const addColumn: OperationDefinition<AddColumn> = {
  kind: 'add_column',
  summary: 'A new nullable column (optionally NOT NULL, with a default or an up), added without a table rewrite.',
  fields: FIELDS,
  touches: (op) => [op.name],
  // No old side: its `up` fills the column; what a new version writes into it, a rollback drops.
  mapping: { oldSide: false, upField: (c) => `${c.field}.${c.up === c.default ? 'default' : 'up'}` },
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    const name = checkNewName(`${field}.name`, need('name'));
    const type = checkType(`${field}.type`, need('type'));
    const dflt =
      body.default === undefined
        ? undefined
        : checkExpression(
            `${field}.default`,
            typeof body.default === 'number' || typeof body.default === 'boolean' ? String(body.default) : body.default,
          );
    const up = body.up === undefined ? undefined : checkExpression(`${field}.up`, body.up);
    const notNull = expectBoolean(`${field}.not_null`, body.not_null, false);
    if (notNull && dflt === undefined && up === undefined) {
      throw new SpecError(
        `${field}.not_null`,
        `column "${name}" is NOT NULL, so it needs a default or an up expression to fill existing rows`,
      );
    }
    return { name, type, default: dflt, up, notNull };
  },
  resolve(op, table: TableInfo, field): ColumnMapping {
    absentColumn(table, `${field}.name`, op.name);
    if (op.up === undefined && op.default !== undefined && isConstantDefault(op.default)) {
      // A constant default and no up: every existing row gets it from the catalog, nothing to backfill.
      return {
        kind: 'add_column',
        field,
        label: `add_column ${op.name}`,
        oldColumns: [],
        newColumns: [
          { field, name: op.name, type: op.type, default: op.default, defaultAt: 'add', notNull: op.notNull },
        ],
        down: {},
      };
    }
    return {
      kind: 'add_column',
      field,
      label: `add_column ${op.name}`,
      oldColumns: [],
      newColumns: [
        {
          field,
          name: op.name,
          type: op.type,
          up: op.up ?? op.default,
          default: op.default,
          // With an `up`, old versions' inserts get up(row) through the trigger, like existing rows; the default waits for contract.
          defaultAt: op.up !== undefined ? 'contract' : 'expand',
          notNull: op.notNull,
        },
      ],
      down: {},
    };
  },
};
