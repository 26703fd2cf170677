import { checkExpression } from '../expression';
import { quoteIdent } from '../identifiers';
import { FieldDecl, readFields } from './declared-fields';
import { addValidatedConstraint, checkObjectName, constraintAbsent, rowsCheck, tableSql } from './object-fields';
import { ObjectWork, OperationDefinition } from './operation';
import { renameInExpression, withDataFix } from './data-fix';

/**
 * add_check: enforced only from contract on. A CHECK, even NOT VALID, applies to every new write
 * at once, so added at expand it would refuse an old version's write that breaks it. Verify
 * reports the rows that break it (by key) while both versions run; before contract's transaction,
 * when only the new versions run, it is added NOT VALID (a catalog-only change under a short
 * lock_timeout) and validated in its own transaction (SHARE UPDATE EXCLUSIVE: writes go on). A
 * VALIDATE that fails drops the constraint again and refuses contract. Rollback drops it.
 */
export interface AddCheck {
  name: string;
  check: string;
}

const FIELDS: readonly FieldDecl[] = [
  { name: 'name', type: 'string', required: true, description: 'the constraint name' },
  { name: 'check', type: 'string', required: true, description: 'the condition every row must meet' },
];

const plainAddCheck: OperationDefinition<AddCheck> = {
  kind: 'add_check',
  summary:
    'A CHECK constraint, enforced from contract on (added NOT VALID and validated when only the new versions run).',
  fields: FIELDS,
  objectOnly: true,
  creates: (op) => [op.name],
  rules: (op) => ({ checks: [{ name: op.name, check: op.check }] }),
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    return {
      name: checkObjectName(`${field}.name`, need('name'), 'constraint'),
      check: checkExpression(`${field}.check`, need('check')),
    };
  },
  objects(op, ctx, field): ObjectWork {
    const t = tableSql(ctx.table);
    const label = `add_check ${op.name}`;
    return {
      kind: 'add_check',
      field,
      label,
      live: [constraintAbsent(`${field}.name`, ctx.table, op.name)],
      trial: [
        {
          id: `${field}.check`,
          sql: `ALTER TABLE pg_temp.${quoteIdent(ctx.table.name)} ADD CONSTRAINT ${quoteIdent(op.name)} CHECK (${op.check})`,
        },
      ],
      // A CHECK holds when its condition is true or NULL.
      checks: [
        rowsCheck(
          `${label}: rows that break the check`,
          ctx.table,
          `(${op.check}) IS FALSE`,
          `change the rows that break check ${op.name} (their data, not Tandem's)`,
        ),
      ],
      beforeContract: addValidatedConstraint(
        `check-${op.name}`,
        ctx.table,
        op.name,
        `CHECK (${op.check})`,
        'rows break the check (tandem verify lists them): fix them, then run contract again',
      ),
      rollback: [
        { id: `drop-check-${op.name}`, sql: `ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${quoteIdent(op.name)}` },
      ],
    };
  },
};

/** With an optional data fix (`up`, `down`, `column`, `into`: data-fix.ts). */
export const addCheck = withDataFix(plainAddCheck, {
  columns: () => [],
  rename: (op, from, to, field) => ({ ...op, check: renameInExpression(op.check, from, to, `${field}.check`) }),
});
