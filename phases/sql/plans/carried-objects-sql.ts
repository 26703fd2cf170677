import { createHash } from 'crypto';
import { rewriteColumns } from '../column-rewrite';
import { fitIdentifier, quoteIdent, quoteLiteral, quoteQualified } from '../identifiers';
import { mappingFacts, ObjectTask, ObjectWork } from '../operations';
import { addCheck } from '../operations/add-check';
import { addForeignKey } from '../operations/add-foreign-key';
import { createIndex } from '../operations/create-index';
import { addValidatedConstraint, tableSql } from '../operations/object-fields';
import { ResolvedSpec } from '../spec';

/**
 * Indexes and constraints follow the column Tandem replaces (rename_column, change_type,
 * set_not_null, drop_not_null): each index, unique, check or foreign-key constraint that reads a
 * replaced column is built again on the new column under an interim name, and takes the user's
 * name at contract, once the original went with the old column. What reads the new column is
 * enforced only when every running version can satisfy it:
 * - a plain index is built concurrently right after expand (nothing to enforce);
 * - a unique index or constraint is built concurrently before contract, when only the new versions
 *   run (built earlier, it would refuse an old version's write the old one took);
 * - a check or foreign key is added NOT VALID and validated before contract (writes go on).
 * Contract's transaction renames them to the original names (a unique constraint is attached to
 * its index: ADD CONSTRAINT ... UNIQUE USING INDEX), with their comments. Rollback drops them.
 * An object that also reads a column the spec drops without a replacement, or whose definition
 * names a replaced column where Tandem cannot tell it is that column, is not carried: contract
 * then refuses as for any object on a dropped column, naming it.
 */

/** An index or constraint on the table that reads a column the spec replaces, as the catalog prints it. */
export interface ColumnObject {
  readonly kind: 'index' | 'unique' | 'check' | 'foreign_key' | 'incoming_foreign_key';
  /** An incoming foreign key: the table it is on (it references the replaced column). */
  readonly on?: { readonly schema: string; readonly name: string };
  readonly name: string;
  /** pg_get_indexdef of the index (for `unique`: of the constraint's index). */
  readonly indexDefinition?: string;
  /** pg_get_constraintdef of a check or foreign key. */
  readonly constraintDefinition?: string;
  /** An index (not a constraint's) that is UNIQUE. */
  readonly unique?: boolean;
  /** The table's columns it reads. */
  readonly columns: readonly string[];
  readonly deferrable?: boolean;
  readonly deferred?: boolean;
  /** A constraint that is NOT VALID stays so. */
  readonly validated?: boolean;
  readonly comment?: string;
  /** pg_describe_object of it (and of a constraint's index): what contract's dependency check expects to go with the old column. */
  readonly describes: readonly string[];
}

/** The replaced columns: old name -> the new column that takes its place. */
export function replacedColumns(resolved: ResolvedSpec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of resolved.mappings) {
    if (!mappingFacts(m).replacesColumn) continue;
    if (m.oldColumns.length === 1 && m.newColumns.length === 1) out[m.oldColumns[0]] = m.newColumns[0].name;
  }
  return out;
}

/** The interim name of a carried object, until contract gives it the original one. */
export function interimName(resolved: ResolvedSpec, name: string): string {
  return fitIdentifier(
    `_tandem_c_${createHash('sha256').update(`${resolved.spec.name}:${name}`).digest('hex').slice(0, 12)}`,
  );
}

/** The part of CREATE INDEX after `ON table`: method, elements, INCLUDE, WHERE. */
function indexTail(definition: string): string | undefined {
  const on = definition.indexOf(' ON ');
  const using = on < 0 ? -1 : definition.indexOf(' USING ', on);
  return using < 0 ? undefined : definition.slice(using + 1);
}

export interface CarriedObjectPlan {
  readonly works: ObjectWork[];
  /** Contract's statements before the old columns go (the original incoming foreign keys). */
  readonly beforeDrop: { id: string; sql: string }[];
  /** Objects on replaced columns that are not carried, with why. */
  readonly notCarried: { readonly name: string; readonly why: string }[];
}

export function carriedObjectWork(resolved: ResolvedSpec, objects: readonly ColumnObject[]): CarriedObjectPlan {
  const renames = replacedColumns(resolved);
  const dropped = new Set(resolved.mappings.flatMap((m) => m.oldColumns));
  const t = tableSql(resolved.table);
  const schema = resolved.table.schema;
  const works: ObjectWork[] = [];
  const beforeDrop: { id: string; sql: string }[] = [];
  const notCarried: { name: string; why: string }[] = [];
  // Foreign keys of other tables last: they need the copy of the unique index they reference.
  for (const o of [
    ...objects.filter((x) => x.kind !== 'incoming_foreign_key'),
    ...objects.filter((x) => x.kind === 'incoming_foreign_key'),
  ]) {
    const lost = o.columns.filter((c) => dropped.has(c) && renames[c] === undefined);
    if (lost.length) {
      notCarried.push({
        name: o.name,
        why: `it also reads ${lost.join(', ')}, which the spec drops without a replacement`,
      });
      continue;
    }
    const replaced = o.columns.filter((c) => renames[c] !== undefined);
    const field = resolved.mappings.find((m) => m.oldColumns.includes(replaced[0]))?.field ?? 'operations';
    const tmp = interimName(resolved, o.name);
    const label = `${o.kind === 'index' ? 'index' : 'constraint'} ${o.name} carried to ${replaced.map((c) => renames[c]).join(', ')}`;
    const comment = (target: string) =>
      o.comment !== undefined
        ? [{ id: `carry-comment-${o.name}`, sql: `COMMENT ON ${target} IS ${quoteLiteral(o.comment)}` }]
        : [];
    if (o.kind === 'index' || o.kind === 'unique') {
      const tail = indexTail(o.indexDefinition ?? '');
      const rewritten = tail === undefined ? undefined : rewriteColumns(tail, renames);
      if (!rewritten || rewritten.leftover.length) {
        notCarried.push({
          name: o.name,
          why: `its definition names ${replaced.join(', ')} where Tandem cannot rewrite it`,
        });
        continue;
      }
      const unique = o.kind === 'unique' || o.unique === true;
      const build: ObjectTask = {
        kind: 'index_build',
        id: `carry-${o.name}`,
        schema,
        index: tmp,
        sql: `CREATE ${unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY ${quoteIdent(tmp)} ON ${t} ${rewritten.sql}`,
        unique,
        definition: rewritten.sql,
        ...(unique
          ? {
              hint: `rows of ${resolved.table.schema}.${resolved.table.name} have duplicate keys for ${o.name} on the new column: fix them, then run contract again`,
            }
          : {}),
      };
      const deferral = o.deferrable ? ` DEFERRABLE INITIALLY ${o.deferred ? 'DEFERRED' : 'IMMEDIATE'}` : '';
      works.push({
        kind: createIndex.kind,
        field,
        label,
        trial: [
          {
            id: `${field}: ${label}`,
            sql: `CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(tmp)} ON pg_temp.${quoteIdent(resolved.table.name)} ${rewritten.sql}`,
          },
        ],
        // Unique: only when the new versions alone write (an old version's duplicate must still go through).
        ...(unique ? { beforeContract: [build] } : { afterExpand: [build] }),
        contract:
          o.kind === 'unique'
            ? [
                {
                  id: `carry-name-${o.name}`,
                  sql: `ALTER TABLE ${t} ADD CONSTRAINT ${quoteIdent(o.name)} UNIQUE USING INDEX ${quoteIdent(tmp)}${deferral}`,
                },
                ...comment(`CONSTRAINT ${quoteIdent(o.name)} ON ${t}`),
              ]
            : [
                {
                  id: `carry-name-${o.name}`,
                  sql: `ALTER INDEX ${quoteQualified(schema, tmp)} RENAME TO ${quoteIdent(o.name)}`,
                },
                ...comment(`INDEX ${quoteQualified(schema, o.name)}`),
              ],
        beforeRollback: [{ kind: 'index_drop', id: `drop-carried-${o.name}`, schema, index: tmp, created: true }],
      });
      continue;
    }
    const def = (o.constraintDefinition ?? '').replace(/ NOT VALID$/, '');
    if (o.kind === 'incoming_foreign_key') {
      const incoming = incomingForeignKey(resolved, o, def, renames, tmp, field, label);
      if ('why' in incoming) notCarried.push({ name: o.name, why: incoming.why });
      else {
        works.push(incoming.work);
        beforeDrop.push(incoming.drop);
      }
      continue;
    }
    let body: string;
    let leftover: string[];
    if (o.kind === 'foreign_key') {
      // Only the referencing columns are this table's: the referenced ones are left as they are.
      const at = def.indexOf(' REFERENCES ');
      const head = at < 0 ? undefined : rewriteColumns(def.slice(0, at), renames);
      body = head ? head.sql + def.slice(at) : def;
      leftover = head ? head.leftover : replaced;
    } else {
      const r = rewriteColumns(def, renames);
      body = r.sql;
      leftover = r.leftover;
    }
    if (leftover.length) {
      notCarried.push({
        name: o.name,
        why: `its definition names ${leftover.join(', ')} where Tandem cannot rewrite it`,
      });
      continue;
    }
    const steps = addValidatedConstraint(
      `carry-${o.name}`,
      resolved.table,
      tmp,
      body,
      `rows break ${o.name} on the new column (the old versions wrote them): fix them, then run contract again`,
    );
    works.push({
      kind: o.kind === 'check' ? addCheck.kind : addForeignKey.kind,
      field,
      label,
      ...(o.kind === 'check'
        ? {
            trial: [
              {
                id: `${field}: ${label}`,
                sql: `ALTER TABLE pg_temp.${quoteIdent(resolved.table.name)} ADD CONSTRAINT ${quoteIdent(tmp)} ${body}`,
              },
            ],
          }
        : {}),
      beforeContract: o.validated === false ? steps.slice(0, 1) : steps,
      contract: [
        {
          id: `carry-name-${o.name}`,
          sql: `ALTER TABLE ${t} RENAME CONSTRAINT ${quoteIdent(tmp)} TO ${quoteIdent(o.name)}`,
        },
        ...comment(`CONSTRAINT ${quoteIdent(o.name)} ON ${t}`),
      ],
      rollback: [
        { id: `drop-carried-${o.name}`, sql: `ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${quoteIdent(tmp)}` },
      ],
    });
  }
  return { works, beforeDrop, notCarried };
}

/**
 * Another table's foreign key into a replaced column: added again on that table, referencing the
 * new column (whose unique index copy is built just before), NOT VALID then validated, before
 * contract; contract's transaction drops the original before the old column goes and gives the
 * copy its name.
 */
function incomingForeignKey(
  resolved: ResolvedSpec,
  o: ColumnObject,
  def: string,
  renames: Record<string, string>,
  tmp: string,
  field: string,
  label: string,
): { work: ObjectWork; drop: { id: string; sql: string } } | { why: string } {
  const at = def.indexOf(' REFERENCES ');
  const open = at < 0 ? -1 : def.indexOf('(', at);
  const close = open < 0 ? -1 : def.indexOf(')', open);
  if (!o.on || close < 0) return { why: 'its definition is not one Tandem can read' };
  const list = rewriteColumns(def.slice(open, close + 1), renames);
  if (list.leftover.length)
    return { why: `its definition names ${list.leftover.join(', ')} where Tandem cannot rewrite it` };
  const body = def.slice(0, open) + list.sql + def.slice(close + 1);
  const other = { ...resolved.table, oid: 0, schema: o.on.schema, name: o.on.name, columns: [], primaryKey: [] };
  const on = tableSql(other);
  const steps = addValidatedConstraint(
    `carry-${o.name}`,
    other,
    tmp,
    body,
    `rows of ${o.on.schema}.${o.on.name} reference no row on the new column for ${o.name}: fix them, then run contract again`,
  );
  const comment =
    o.comment !== undefined
      ? [
          {
            id: `carry-comment-${o.name}`,
            sql: `COMMENT ON CONSTRAINT ${quoteIdent(o.name)} ON ${on} IS ${quoteLiteral(o.comment)}`,
          },
        ]
      : [];
  return {
    work: {
      kind: addForeignKey.kind,
      field,
      label,
      beforeContract: o.validated === false ? steps.slice(0, 1) : steps,
      contract: [
        {
          id: `carry-name-${o.name}`,
          sql: `ALTER TABLE ${on} RENAME CONSTRAINT ${quoteIdent(tmp)} TO ${quoteIdent(o.name)}`,
        },
        ...comment,
      ],
      rollback: [
        { id: `drop-carried-${o.name}`, sql: `ALTER TABLE ${on} DROP CONSTRAINT IF EXISTS ${quoteIdent(tmp)}` },
      ],
    },
    drop: { id: `drop-original-${o.name}`, sql: `ALTER TABLE ${on} DROP CONSTRAINT ${quoteIdent(o.name)}` },
  };
}
