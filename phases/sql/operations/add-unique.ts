import { quoteIdent } from '../identifiers';
import { FieldDecl, readFields } from './declared-fields';
import { checkObjectName, constraintAbsent, nameList, notPartitioned, tableSql } from './object-fields';
import { indexWork } from './create-index';
import { ObjectWork, OperationDefinition } from './operation';
import { withDataFix } from './data-fix';

/**
 * add_unique: a unique index built concurrently before contract's transaction (when only the new
 * versions run: built earlier, it would refuse an old version's duplicate write), then
 * `ADD CONSTRAINT ... UNIQUE USING INDEX` inside it, a catalog-only change. Verify reports the
 * duplicates by key before contract; if a duplicate still slips in, the build fails, its INVALID
 * index is dropped concurrently at once (an INVALID unique index would still refuse writes) and
 * contract is refused, naming the rows to fix. Refused at validate on a partitioned table, where
 * PostgreSQL 15 has no ADD CONSTRAINT ... USING INDEX (create_index with unique: true works there).
 */
export interface AddUnique {
  name: string;
  columns: string[];
}

const FIELDS: readonly FieldDecl[] = [
  { name: 'name', type: 'string', required: true, description: 'the constraint name' },
  { name: 'columns', type: 'strings', required: true, description: 'the columns that must be unique' },
];

const plainAddUnique: OperationDefinition<AddUnique> = {
  kind: 'add_unique',
  summary: "A UNIQUE constraint: its index built concurrently before contract, attached inside contract's transaction.",
  fields: FIELDS,
  objectOnly: true,
  creates: (op) => [op.name],
  rules: (op) => ({ uniques: [op.columns] }),
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    return {
      name: checkObjectName(`${field}.name`, need('name'), 'constraint'),
      columns: nameList(`${field}.columns`, need('columns'), 'columns'),
    };
  },
  objects(op, ctx, field): ObjectWork {
    const label = `add_unique ${op.name}`;
    const index = {
      name: op.name,
      columns: op.columns.map((column) => ({ column })),
      unique: true,
      method: 'btree',
      include: [],
    };
    const { build, live, ...work } = indexWork(index, ctx, field, label);
    return {
      kind: 'add_unique',
      field,
      label,
      ...work,
      live: [
        ...live,
        constraintAbsent(`${field}.name`, ctx.table, op.name),
        notPartitioned(
          field,
          ctx.table,
          op.name,
          'PostgreSQL 15 cannot attach a unique constraint to a partitioned table USING INDEX, and ADD CONSTRAINT ... UNIQUE would build its index under a lock that blocks writes; use create_index with unique: true (built per partition, concurrently)',
        ),
      ],
      beforeContract: [build],
      contract: [
        {
          id: `add-unique-${op.name}`,
          sql: `ALTER TABLE ${tableSql(ctx.table)} ADD CONSTRAINT ${quoteIdent(op.name)} UNIQUE USING INDEX ${quoteIdent(op.name)}`,
        },
      ],
    };
  },
};

/** With an optional data fix (`up`, `down`, `column`, `into`: data-fix.ts). */
export const addUnique = withDataFix(plainAddUnique, {
  columns: (op) => op.columns,
  rename: (op, from, to) => ({ ...op, columns: op.columns.map((c) => (c === from ? to : c)) }),
});
