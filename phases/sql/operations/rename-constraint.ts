import { checkExistingName, quoteIdent, quoteLiteral } from '../identifiers';
import { FieldDecl, readFields } from './declared-fields';
import { checkObjectName, regclass, relationExists, tableSql } from './object-fields';
import { ObjectWork, OperationDefinition } from './operation';

/**
 * rename_constraint: renamed inside contract's transaction (catalog only, under lock_timeout),
 * when only the new versions run. Until then the constraint keeps its old name for every version:
 * an old version's `ON CONFLICT ON CONSTRAINT <from>` or error handling by name keeps working. The
 * new versions must not name it by either name until contract (an ON CONFLICT over its columns
 * works under both). A unique, primary key or exclusion constraint's index is renamed with it.
 * Nothing to roll back before contract.
 */
export interface RenameConstraint {
  from: string;
  to: string;
}

const FIELDS: readonly FieldDecl[] = [
  { name: 'from', type: 'string', required: true, description: 'the constraint to rename' },
  { name: 'to', type: 'string', required: true, description: 'its new name' },
];

export const renameConstraint: OperationDefinition<RenameConstraint> = {
  kind: 'rename_constraint',
  summary:
    "A constraint of the table gets a new name inside contract's transaction (its index too); every version sees the old name until then.",
  fields: FIELDS,
  objectOnly: true,
  creates: (op) => [op.to],
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    const from = checkExistingName(`${field}.from`, need('from'));
    const to = checkObjectName(`${field}.to`, need('to'), 'constraint');
    return { from, to };
  },
  objects(op, ctx, field): ObjectWork {
    const t = ctx.table;
    const constraint = (name: string) =>
      `SELECT conindid FROM pg_constraint WHERE conrelid = ${regclass(t)} AND conname = ${quoteLiteral(name)}`;
    return {
      kind: 'rename_constraint',
      field,
      label: `rename_constraint ${op.from} -> ${op.to}`,
      live: [
        {
          field: `${field}.from`,
          objectName: op.from,
          sql: `SELECT 'missing' AS what WHERE NOT EXISTS (${constraint(op.from)})`,
          message: `constraint "${op.from}" does not exist on table ${t.schema}.${t.name}`,
        },
        {
          field: `${field}.from`,
          objectName: op.from,
          sql: `SELECT 'inherited' AS what FROM pg_constraint WHERE conrelid = ${regclass(t)} AND conname = ${quoteLiteral(op.from)} AND NOT conislocal`,
          message: `constraint "${op.from}" is inherited from a parent table of ${t.schema}.${t.name}; rename it on the parent`,
        },
        {
          field: `${field}.to`,
          objectName: op.to,
          sql: `SELECT conname AS what FROM pg_constraint WHERE conrelid = ${regclass(t)} AND conname = ${quoteLiteral(op.to)}`,
          message: `constraint "${op.to}" already exists on table ${t.schema}.${t.name}`,
        },
        {
          // Its index takes the new name too: no relation of that name may exist in the schema.
          field: `${field}.to`,
          objectName: op.to,
          sql: `${relationExists(t.schema, op.to)} AND EXISTS (SELECT 1 FROM (${constraint(op.from)}) k WHERE k.conindid <> 0)`,
          message: `constraint "${op.from}" has an index, which is renamed with it, and a relation named "${op.to}" already exists in schema ${t.schema}`,
        },
      ],
      contract: [
        {
          id: `rename-constraint-${op.from}`,
          sql: `ALTER TABLE ${tableSql(t)} RENAME CONSTRAINT ${quoteIdent(op.from)} TO ${quoteIdent(op.to)}`,
        },
      ],
    };
  },
};
