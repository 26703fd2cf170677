import { SpecError } from '../../errors';
import { checkExistingName, quoteIdent, quoteLiteral } from '../identifiers';
import { FieldDecl, readFields } from './declared-fields';
import { notPartitioned, regclass, tableSql } from './object-fields';
import { CatalogCondition, ObjectWork, OperationDefinition, TableInfo } from './operation';

/**
 * set_replica_identity: what an UPDATE or DELETE of the table logs of the old row for logical
 * replication (DEFAULT: the primary key; FULL: every column; NOTHING; USING INDEX: a unique index's
 * columns). No version reads it, so it is set inside contract's transaction (catalog only) and
 * there is nothing to roll back before. Refused where it would break writes or cannot apply:
 * NOTHING on a table a publication sends updates or deletes of (PostgreSQL would then refuse every
 * UPDATE and DELETE), an index that cannot be one (not unique, partial, deferrable, an expression,
 * a nullable column, INVALID), a partitioned table (set it on the partitions).
 */
export const REPLICA_IDENTITIES = ['default', 'full', 'nothing', 'index'] as const;
type ReplicaIdentity = (typeof REPLICA_IDENTITIES)[number];

export interface SetReplicaIdentity {
  identity: ReplicaIdentity;
  index?: string;
}

const FIELDS: readonly FieldDecl[] = [
  {
    name: 'identity',
    type: 'string',
    required: true,
    enum: REPLICA_IDENTITIES,
    description: 'default (the primary key), full (every column), nothing, or index',
  },
  { name: 'index', type: 'string', description: 'with identity: index, the unique index whose columns identify a row' },
];

/** Why the index cannot be the replica identity (a row per reason), as PostgreSQL requires it. */
function indexUnfit(field: string, table: TableInfo, index: string): CatalogCondition {
  const idx = `SELECT i.* FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = ${regclass(table)} AND c.relname = ${quoteLiteral(index)}`;
  return {
    field,
    objectName: index,
    sql:
      `SELECT 'missing' AS what WHERE NOT EXISTS (${idx}) UNION ALL ` +
      `SELECT w FROM (${idx}) i CROSS JOIN LATERAL (VALUES (CASE WHEN NOT i.indisunique THEN 'not unique' END), (CASE WHEN i.indpred IS NOT NULL THEN 'partial' END), ` +
      `(CASE WHEN NOT i.indimmediate THEN 'deferrable' END), (CASE WHEN i.indexprs IS NOT NULL THEN 'on an expression' END), (CASE WHEN NOT i.indisvalid THEN 'INVALID' END), ` +
      `((SELECT 'nullable column ' || string_agg(a.attname, ', ') FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[]) AND NOT a.attnotnull HAVING count(*) > 0))) v(w) WHERE w IS NOT NULL`,
    message: `index "${index}" cannot be the replica identity of ${table.schema}.${table.name}: it must exist on the table and be unique, not partial, not deferrable, without expressions, valid, and on NOT NULL columns only`,
  };
}

/** Publications that send updates or deletes of the table: with REPLICA IDENTITY NOTHING, PostgreSQL refuses every UPDATE and DELETE of it. */
function publishedChanges(field: string, table: TableInfo): CatalogCondition {
  return {
    field,
    objectName: `${table.schema}.${table.name}`,
    sql: `SELECT DISTINCT 'publication ' || p.pubname AS what FROM pg_publication_tables pt JOIN pg_publication p ON p.pubname = pt.pubname WHERE pt.schemaname = ${quoteLiteral(table.schema)} AND pt.tablename = ${quoteLiteral(table.name)} AND (p.pubupdate OR p.pubdelete)`,
    message: `replica identity nothing on ${table.schema}.${table.name}, which a publication sends updates or deletes of, would make PostgreSQL refuse every UPDATE and DELETE of the table`,
  };
}

export const setReplicaIdentity: OperationDefinition<SetReplicaIdentity> = {
  kind: 'set_replica_identity',
  summary: "Sets the replica identity (default, full, nothing, or a unique index) inside contract's transaction.",
  fields: FIELDS,
  objectOnly: true,
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    const identity = need('identity');
    if (typeof identity !== 'string' || !(REPLICA_IDENTITIES as readonly string[]).includes(identity))
      throw new SpecError(`${field}.identity`, `must be one of ${REPLICA_IDENTITIES.join(', ')}`);
    if (identity === 'index') {
      if (body.index === undefined || body.index === null)
        throw new SpecError(
          `${field}.index`,
          'is missing: with identity: index, the unique index whose columns identify a row',
        );
      return { identity, index: checkExistingName(`${field}.index`, body.index) };
    }
    if (body.index !== undefined)
      throw new SpecError(`${field}.index`, `is only for identity: index (identity is ${identity})`);
    return { identity: identity as ReplicaIdentity };
  },
  objects(op, ctx, field): ObjectWork {
    const t = ctx.table;
    const clause = op.identity === 'index' ? `USING INDEX ${quoteIdent(op.index!)}` : op.identity.toUpperCase();
    const live: CatalogCondition[] = [
      notPartitioned(
        field,
        t,
        `${t.schema}.${t.name}`,
        "its replica identity is each partition's own; set it on the partitions",
      ),
    ];
    if (op.identity === 'index') live.push(indexUnfit(`${field}.index`, t, op.index!));
    if (op.identity === 'nothing') live.push(publishedChanges(`${field}.identity`, t));
    return {
      kind: 'set_replica_identity',
      field,
      label: `set_replica_identity ${op.identity}${op.index ? ` ${op.index}` : ''}`,
      live,
      // Checked again before contract's transaction: the index or a publication may have changed since.
      contractBlockers: live.slice(1).map((c) => ({ ...c, message: `contract refused: ${c.message}` })),
      contract: [{ id: 'replica-identity', sql: `ALTER TABLE ${tableSql(t)} REPLICA IDENTITY ${clause}` }],
    };
  },
};
