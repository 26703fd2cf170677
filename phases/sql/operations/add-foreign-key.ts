import { SpecError } from '../../errors';
import { parseTableName, quoteIdent, quoteLiteral, quoteQualified } from '../identifiers';
import { expectObject } from './fields';
import { FieldDecl, readFields } from './declared-fields';
import {
  addValidatedConstraint,
  checkObjectName,
  constraintAbsent,
  knownColumn,
  nameList,
  notPartitioned,
  rowsCheck,
  tableSql,
} from './object-fields';
import { CatalogCondition, ObjectWork, OperationDefinition } from './operation';
import { withDataFix } from './data-fix';

/**
 * add_foreign_key: enforced only from contract on, as add_check. A NOT VALID foreign key still
 * checks every new write, so added while the old versions run it would refuse an old version's
 * write of an orphan (or its delete of a referenced row). Verify reports orphans by key; before
 * contract's transaction it is added NOT VALID (a short SHARE ROW EXCLUSIVE on both tables, under
 * lock_timeout) and validated in its own transaction under SHARE UPDATE EXCLUSIVE (writes go on).
 * A VALIDATE that fails drops it again and refuses contract. Rollback drops it. Refused at
 * validate on a partitioned referencing table (PostgreSQL 15 has no NOT VALID foreign key there).
 */
export const FK_ACTIONS = {
  no_action: 'NO ACTION',
  restrict: 'RESTRICT',
  cascade: 'CASCADE',
  set_null: 'SET NULL',
  set_default: 'SET DEFAULT',
} as const;
type FkAction = keyof typeof FK_ACTIONS;

export interface AddForeignKey {
  name: string;
  columns: string[];
  references: { schema?: string; table: string; columns: string[] };
  onDelete: FkAction;
  onUpdate: FkAction;
}

function action(field: string, value: unknown): FkAction {
  if (value === undefined) return 'no_action';
  if (typeof value !== 'string' || !(value in FK_ACTIONS))
    throw new SpecError(field, `must be one of ${Object.keys(FK_ACTIONS).join(', ')}`);
  return value as FkAction;
}

const REFERENCES: readonly FieldDecl[] = [
  { name: 'table', type: 'string', required: true, description: 'the referenced table' },
  { name: 'columns', type: 'strings', required: true, description: 'the referenced columns' },
];

const ACTIONS = Object.keys(FK_ACTIONS);

const FIELDS: readonly FieldDecl[] = [
  { name: 'name', type: 'string', required: true, description: 'the constraint name' },
  { name: 'columns', type: 'strings', required: true, description: 'the referencing columns' },
  {
    name: 'references',
    type: 'object',
    required: true,
    description: 'the referenced table and columns',
    fields: REFERENCES,
  },
  {
    name: 'on_delete',
    type: 'string',
    enum: ACTIONS,
    description: 'what a delete of a referenced row does (default no_action)',
  },
  {
    name: 'on_update',
    type: 'string',
    enum: ACTIONS,
    description: 'what an update of a referenced key does (default no_action)',
  },
];

const plainAddForeignKey: OperationDefinition<AddForeignKey> = {
  kind: 'add_foreign_key',
  summary: 'A FOREIGN KEY, enforced from contract on (added NOT VALID and validated when only the new versions run).',
  fields: FIELDS,
  objectOnly: true,
  creates: (op) => [op.name],
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    const name = checkObjectName(`${field}.name`, need('name'), 'constraint');
    const columns = nameList(`${field}.columns`, need('columns'), 'columns');
    const refs = readFields(`${field}.references`, expectObject(`${field}.references`, need('references')), REFERENCES);
    const target = parseTableName(`${field}.references.table`, refs('table'));
    const refColumns = nameList(`${field}.references.columns`, refs('columns'), 'columns');
    if (refColumns.length !== columns.length)
      throw new SpecError(
        `${field}.references.columns`,
        `lists ${refColumns.length} columns for ${columns.length} referencing columns`,
      );
    return {
      name,
      columns,
      references: { ...target, columns: refColumns },
      onDelete: action(`${field}.on_delete`, body.on_delete),
      onUpdate: action(`${field}.on_update`, body.on_update),
    };
  },
  objects(op, ctx, field): ObjectWork {
    op.columns.forEach((c, i) => knownColumn(ctx, `${field}.columns[${i}]`, c));
    const schema = op.references.schema ?? ctx.table.schema;
    const ref = quoteQualified(schema, op.references.table);
    const refName = `${schema}.${op.references.table}`;
    const label = `add_foreign_key ${op.name}`;
    const definition =
      `FOREIGN KEY (${op.columns.map(quoteIdent).join(', ')}) REFERENCES ${ref} (${op.references.columns.map(quoteIdent).join(', ')})` +
      ` ON DELETE ${FK_ACTIONS[op.onDelete]} ON UPDATE ${FK_ACTIONS[op.onUpdate]}`;
    const live: CatalogCondition[] = [
      constraintAbsent(`${field}.name`, ctx.table, op.name),
      notPartitioned(
        field,
        ctx.table,
        op.name,
        'PostgreSQL 15 cannot add a NOT VALID foreign key to a partitioned table, and adding it valid scans every partition under SHARE ROW EXCLUSIVE, which blocks writes; add the foreign key in a maintenance window (a partitioned table may be the referenced one)',
      ),
    ];
    if (!ctx.createdTables.includes(refName)) {
      const refOid = `to_regclass(${quoteLiteral(ref)})`;
      live.push(
        {
          field: `${field}.references.table`,
          objectName: refName,
          sql: `SELECT 'missing' AS what WHERE ${refOid} IS NULL`,
          message: `table ${refName} does not exist`,
        },
        ...op.references.columns.map((c, i) => ({
          field: `${field}.references.columns[${i}]`,
          objectName: c,
          sql: `SELECT 'missing' AS what WHERE NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = ${refOid} AND attname = ${quoteLiteral(c)} AND attnum > 0 AND NOT attisdropped)`,
          message: `column "${c}" does not exist in table ${refName}`,
        })),
        {
          field: `${field}.references.columns`,
          objectName: refName,
          // PostgreSQL needs a primary key, unique constraint or non-partial unique index on exactly these columns.
          sql:
            `SELECT 'no key' AS what WHERE NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = ${refOid} AND i.indisunique AND i.indisvalid AND i.indpred IS NULL ` +
            `AND i.indnkeyatts = ${op.references.columns.length} AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey[0:i.indnkeyatts - 1])) = ` +
            `ARRAY[${[...op.references.columns].sort().map(quoteLiteral).join(', ')}]::text[])`,
          message: `table ${refName} has no primary key or unique constraint on (${op.references.columns.join(', ')}), which a foreign key must reference`,
        },
      );
    }
    const match = op.columns
      .map((c, i) => `r.${quoteIdent(op.references.columns[i])} = x.${quoteIdent(c)}`)
      .join(' AND ');
    const present = op.columns.map((c) => `x.${quoteIdent(c)} IS NOT NULL`).join(' AND ');
    return {
      kind: 'add_foreign_key',
      field,
      label,
      live,
      // MATCH SIMPLE: a row with a NULL in its key references nothing.
      checks: [
        rowsCheck(
          `${label}: rows referencing no row of ${refName}`,
          ctx.table,
          `${present} AND NOT EXISTS (SELECT 1 FROM ${ref} r WHERE ${match})`,
          `insert the rows of ${refName} they reference, or change or delete the rows that reference none`,
        ),
      ],
      beforeContract: addValidatedConstraint(
        `fk-${op.name}`,
        ctx.table,
        op.name,
        definition,
        `rows reference no row of ${refName} (tandem verify lists them): fix them, then run contract again`,
      ),
      rollback: [
        {
          id: `drop-fk-${op.name}`,
          sql: `ALTER TABLE ${tableSql(ctx.table)} DROP CONSTRAINT IF EXISTS ${quoteIdent(op.name)}`,
        },
      ],
    };
  },
};

/** With an optional data fix (`up`, `down`, `column`, `into`: data-fix.ts). */
export const addForeignKey = withDataFix(plainAddForeignKey, {
  columns: (op) => op.columns,
  rename: (op, from, to) => ({ ...op, columns: op.columns.map((c) => (c === from ? to : c)) }),
});
