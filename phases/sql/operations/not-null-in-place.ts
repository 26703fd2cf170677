import { createHash } from 'crypto';
import { CatalogError } from '../../errors';
import { fitIdentifier, quoteIdent } from '../identifiers';
import { addValidatedConstraint, rowsCheck, tableSql } from './object-fields';
import { checkKeys } from './declared-fields';
import { ObjectWork, OperationDefinition } from './operation';

/**
 * set_not_null without `up` (and without `into`): the column stays where it is, under its own name.
 * Nothing changes while the old versions run (they may still write NULL; nothing refuses it),
 * verify lists the rows holding NULL; before contract's transaction, when only the new versions
 * run, a CHECK (column IS NOT NULL) is added NOT VALID and validated (writes go on), and contract's
 * transaction sets NOT NULL without a scan (the validated check proves it) and drops the check. A
 * NULL still there refuses contract, naming the rows: fix them (or use `up`, which lands on a new
 * column). No sync trigger, no new column, no backfill.
 */
export interface InPlaceNotNull {
  column: string;
  inPlace: true;
}

type Either<T> = T | InPlaceNotNull;

const isInPlace = (op: unknown): op is InPlaceNotNull => (op as InPlaceNotNull).inPlace === true;

function checkName(migration: string, column: string): string {
  return fitIdentifier(
    `_tandem_nnp_${migration.replace(/-/g, '_')}_${createHash('sha256').update(column).digest('hex').slice(0, 10)}`,
  );
}

export function withInPlaceNotNull<T>(def: OperationDefinition<T>): OperationDefinition<Either<T>> {
  // `up` is optional: without it (and without `into`) the column becomes NOT NULL in place.
  const fields = def.fields.map((d) =>
    d.name === 'up'
      ? {
          ...d,
          required: false,
          description: `${d.description} (without up and into: in place, the rows holding NULL must be fixed before contract)`,
        }
      : d,
  );
  return {
    ...def,
    fields,
    touches: (op) => (isInPlace(op) ? [op.column] : (def.touches?.(op) ?? [])),
    landsUnderNewName: (op) => (isInPlace(op) ? undefined : def.landsUnderNewName?.(op)),
    parse(body, field): Either<T> {
      if (body.up !== undefined || body.into !== undefined) return def.parse(body, field);
      checkKeys(field, body, fields);
      const inner = def.parse({ ...body, up: 'NULL' }, field) as unknown as { column: string };
      return { column: inner.column, inPlace: true };
    },
    resolve(op, table, field) {
      if (!isInPlace(op)) return def.resolve!(op, table, field);
      const c = table.columns.find((x) => x.name === op.column);
      if (!c)
        throw new CatalogError(
          `${field}.column`,
          op.column,
          `column "${op.column}" does not exist in table ${table.schema}.${table.name}`,
        );
      if (c.notNull) throw new CatalogError(`${field}.column`, op.column, `column "${op.column}" is already NOT NULL`);
      return undefined;
    },
    objects(op, ctx, field): ObjectWork {
      if (!isInPlace(op)) return def.objects!(op, ctx, field);
      const t = tableSql(ctx.table);
      const col = quoteIdent(op.column);
      const check = checkName(ctx.migration, op.column);
      const label = `set_not_null ${op.column} (in place)`;
      return {
        kind: 'set_not_null',
        field,
        label,
        checks: [
          rowsCheck(
            `${label}: rows holding NULL`,
            ctx.table,
            `${col} IS NULL`,
            `give the rows holding NULL in ${op.column} a value (or use set_not_null with up, which fills a new column)`,
          ),
        ],
        beforeContract: addValidatedConstraint(
          `not-null-${op.column}`,
          ctx.table,
          check,
          `CHECK (${col} IS NOT NULL)`,
          `rows hold NULL in ${op.column} (tandem verify lists them): fix them, then run contract again`,
        ),
        contract: [
          { id: `set-not-null-${op.column}`, sql: `ALTER TABLE ${t} ALTER COLUMN ${col} SET NOT NULL` },
          { id: `drop-not-null-check-${op.column}`, sql: `ALTER TABLE ${t} DROP CONSTRAINT ${quoteIdent(check)}` },
        ],
        rollback: [
          {
            id: `drop-not-null-check-${op.column}`,
            sql: `ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${quoteIdent(check)}`,
          },
        ],
      };
    },
  };
}
