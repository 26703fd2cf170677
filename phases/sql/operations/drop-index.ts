import { checkExistingName, quoteLiteral } from '../identifiers';
import { FieldDecl, readFields } from './declared-fields';
import { regclass } from './object-fields';
import { CatalogCondition, ObjectWork, OperationDefinition } from './operation';

/**
 * drop_index: the old versions keep their index until contract. After contract's transaction
 * commits, DROP INDEX CONCURRENTLY (no write waits on it; re-run by every contract re-run until
 * it is gone). After, not before: a contract that fails or is refused leaves the index in place,
 * so rollback stays exact. An index on a column the spec drops goes with the column inside
 * contract's transaction, and it does not block contract's dependency check. An index that backs
 * a constraint (primary key, unique) is refused: that is the constraint's to drop; so is a unique
 * index a foreign key references through (at validate, and again before contract's transaction).
 * A partitioned index has no concurrent drop: it is dropped in a short transaction under
 * lock_timeout and the hold bounds (catalog only), with the partitions' indexes attached to it.
 */
export interface DropIndex {
  name: string;
}

const FIELDS: readonly FieldDecl[] = [
  { name: 'name', type: 'string', required: true, description: 'the index to drop' },
];

export const dropIndex: OperationDefinition<DropIndex> = {
  kind: 'drop_index',
  summary: 'An index the old versions keep until contract, dropped concurrently after contract commits.',
  fields: FIELDS,
  objectOnly: true,
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    return { name: checkExistingName(`${field}.name`, need('name')) };
  },
  objects(op, ctx, field): ObjectWork {
    const schema = ctx.table.schema;
    const index = `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${quoteLiteral(schema)} AND c.relname = ${quoteLiteral(op.name)}`;
    // A foreign key (of any table) that references through this unique index: PostgreSQL refuses the drop.
    const usedByForeignKey: CatalogCondition = {
      field: `${field}.name`,
      objectName: op.name,
      sql: `SELECT format('foreign key %s on %s', conname, conrelid::regclass) AS what FROM pg_constraint WHERE contype = 'f' AND conindid IN (${index})`,
      message: `index "${op.name}" is the unique index a foreign key references through (drop or change that foreign key first), and PostgreSQL cannot drop the index while it exists`,
    };
    return {
      kind: 'drop_index',
      field,
      label: `drop_index ${op.name}`,
      live: [
        {
          field: `${field}.name`,
          objectName: op.name,
          sql: `SELECT 'missing' AS what WHERE NOT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = ${regclass(ctx.table)} AND indexrelid IN (${index}))`,
          message: `index "${op.name}" does not exist on table ${schema}.${ctx.table.name}`,
        },
        usedByForeignKey,
        {
          field: `${field}.name`,
          objectName: op.name,
          sql: `SELECT conname AS what FROM pg_constraint WHERE conindid IN (${index}) AND conrelid = ${regclass(ctx.table)}`,
          message: `index "${op.name}" backs a constraint of ${schema}.${ctx.table.name} (a primary key or unique constraint); drop_index drops plain indexes only`,
        },
      ],
      // Checked again before contract's transaction: a foreign key may have come since.
      contractBlockers: [usedByForeignKey],
      afterContract: [{ kind: 'index_drop', id: `drop-index-${op.name}`, schema, index: op.name }],
      dropsIndexes: [`${schema}.${op.name}`],
    };
  },
};
