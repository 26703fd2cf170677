import { checkExistingName, quoteIdent, quoteLiteral } from '../identifiers';
import { FieldDecl, readFields } from './declared-fields';
import { regclass, tableSql } from './object-fields';
import { CatalogCondition, ObjectWork, OperationDefinition, TableInfo } from './operation';

/**
 * drop_constraint: a constraint of the spec's table (check, unique, foreign key, exclusion, or a
 * primary key that is not the one Tandem walks the table by) goes inside contract's transaction,
 * a catalog-only change under lock_timeout. Until then every version still has it: the old ones
 * may rely on it (an ON CONFLICT that names it, a unique lookup), and a write the constraint
 * refuses is refused for the new versions too until contract. Nothing to roll back before
 * contract. Refused while a foreign key references through its index (PostgreSQL would need CASCADE).
 */
export interface DropConstraint {
  name: string;
}

const FIELDS: readonly FieldDecl[] = [
  { name: 'name', type: 'string', required: true, description: 'the constraint to drop' },
];

/** SQL selecting the table's constraint of that name (oid, contype, conindid). */
function constraintOf(table: TableInfo, name: string): string {
  return `SELECT oid, contype, conindid FROM pg_constraint WHERE conrelid = ${regclass(table)} AND conname = ${quoteLiteral(name)}`;
}

/**
 * A foreign key (of any table) that references through the constraint's index: dropping it would
 * need CASCADE. Only a primary key, unique or exclusion constraint owns its index: a foreign key's
 * conindid is the index of the key it references, shared by every other foreign key onto that key.
 */
export function referencedThroughIndex(field: string, table: TableInfo, name: string): CatalogCondition {
  return {
    field,
    objectName: name,
    sql: `SELECT format('foreign key %s on %s', f.conname, f.conrelid::regclass) AS what FROM pg_constraint f JOIN (${constraintOf(table, name)}) k ON k.contype IN ('p', 'u', 'x') AND k.conindid <> 0 AND f.conindid = k.conindid WHERE f.contype = 'f'`,
    message: `constraint "${name}" has the unique index a foreign key references through (drop or change that foreign key first); PostgreSQL cannot drop it while that foreign key exists`,
  };
}

export const dropConstraint: OperationDefinition<DropConstraint> = {
  kind: 'drop_constraint',
  summary: "A constraint of the table, kept for every version until contract, dropped inside contract's transaction.",
  fields: FIELDS,
  objectOnly: true,
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    return { name: checkExistingName(`${field}.name`, need('name')) };
  },
  objects(op, ctx, field): ObjectWork {
    const f = `${field}.name`;
    const t = ctx.table;
    return {
      kind: 'drop_constraint',
      field,
      label: `drop_constraint ${op.name}`,
      live: [
        {
          field: f,
          objectName: op.name,
          sql: `SELECT 'missing' AS what WHERE NOT EXISTS (${constraintOf(t, op.name)})`,
          message: `constraint "${op.name}" does not exist on table ${t.schema}.${t.name}`,
        },
        {
          field: f,
          objectName: op.name,
          sql: `SELECT 'primary key' AS what FROM (${constraintOf(t, op.name)}) k WHERE k.contype = 'p'`,
          message: `constraint "${op.name}" is the primary key of ${t.schema}.${t.name}, which Tandem walks the table by (backfill, verify); it is not dropped online`,
        },
        {
          field: f,
          objectName: op.name,
          sql: `SELECT 'inherited' AS what FROM pg_constraint WHERE conrelid = ${regclass(t)} AND conname = ${quoteLiteral(op.name)} AND NOT conislocal`,
          message: `constraint "${op.name}" is inherited from a parent table of ${t.schema}.${t.name}; drop it on the parent`,
        },
        referencedThroughIndex(f, t, op.name),
      ],
      // Checked again before contract's transaction: a foreign key may have come since.
      contractBlockers: [referencedThroughIndex(f, t, op.name)],
      // A unique, primary key or exclusion constraint's index has its name and goes with it.
      dropsIndexes: [`${t.schema}.${op.name}`],
      contract: [
        {
          id: `drop-constraint-${op.name}`,
          sql: `ALTER TABLE ${tableSql(t)} DROP CONSTRAINT IF EXISTS ${quoteIdent(op.name)}`,
        },
      ],
    };
  },
};
