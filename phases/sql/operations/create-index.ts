import { SpecError } from '../../errors';
import { checkExpression } from '../expression';
import { checkExistingName, quoteIdent, quoteLiteral } from '../identifiers';
import { expectBoolean, expectKeys, expectObject, required } from './fields';
import { checkObjectName, keyJson, knownColumn, nameList, relationAbsent, tableSql } from './object-fields';
import { ObjectCheck, ObjectContext, ObjectStep, ObjectWork, OperationDefinition, TableInfo } from './operation';

/**
 * create_index: CREATE INDEX CONCURRENTLY, outside any transaction, under lock_timeout and
 * without statement_timeout; writes go on while it builds. An INVALID index a failed or killed
 * build left behind is found (pg_index.indisvalid), dropped concurrently and rebuilt. A plain
 * index is built right after expand commits; a UNIQUE one only before contract, when only the new
 * versions run: built earlier, it would refuse an old version's duplicate write. Verify reports the
 * duplicates by key beforehand. Rollback drops it concurrently.
 */
export type IndexElement = { column: string } | { expression: string };

export interface CreateIndex {
  name: string;
  columns: IndexElement[];
  unique: boolean;
  method: string;
  where?: string;
  include: string[];
}

export const INDEX_METHODS = ['btree', 'hash', 'gist', 'gin', 'brin', 'spgist'] as const;

export function parseIndexElements(field: string, value: unknown): IndexElement[] {
  if (!Array.isArray(value) || value.length === 0) throw new SpecError(field, 'must be a non-empty list of column names or { expression: ... }');
  return value.map((raw, i): IndexElement => {
    const f = `${field}[${i}]`;
    if (typeof raw === 'string') return { column: checkExistingName(f, raw) };
    const body = expectObject(f, raw);
    expectKeys(f, body, ['expression']);
    return { expression: checkExpression(`${f}.expression`, required(`${f}.expression`, body.expression, 'an index expression')) };
  });
}

export function elementSql(e: IndexElement): string {
  return 'column' in e ? quoteIdent(e.column) : `(${e.expression})`;
}

/** The statement that builds the index, concurrently, on `on` (the table, or its temporary copy for the trial). */
export function createIndexSql(op: CreateIndex, on: string, concurrently: boolean): string {
  const include = op.include.length ? ` INCLUDE (${op.include.map(quoteIdent).join(', ')})` : '';
  const where = op.where !== undefined ? ` WHERE (${op.where})` : '';
  return `CREATE ${op.unique ? 'UNIQUE ' : ''}INDEX${concurrently ? ' CONCURRENTLY' : ''} ${quoteIdent(op.name)} ON ${on} USING ${op.method} (${op.columns.map(elementSql).join(', ')})${include}${where}`;
}

/** Rows that share their key with another row (NULLs are distinct, as in a unique index): verify reports them by key. */
export function duplicatesCheck(label: string, table: TableInfo, elements: IndexElement[], where?: string): ObjectCheck {
  const keys = elements.map(elementSql);
  const filters = [...keys.map((k) => `${k} IS NOT NULL`), ...(where !== undefined ? [`(${where})`] : [])];
  return {
    label,
    fix: 'change the rows with a duplicate key so each key is unique (their data, not Tandem\'s)',
    counts: 'rows',
    sql:
      `SELECT count(*)::bigint AS n, (array_agg(k ORDER BY k))[1:10] AS sample FROM (` +
      `SELECT ${keyJson(table, 'x')} AS k, count(*) OVER (PARTITION BY ${keys.join(', ')}) AS c FROM ${tableSql(table)} x WHERE ${filters.join(' AND ')}) d WHERE c > 1`,
  };
}

/** Is the index there and valid? n = 1 when it is missing or INVALID. */
export function indexValidCheck(label: string, schema: string, index: string): ObjectCheck {
  return {
    label,
    fix: `run tandem expand SPEC again: it builds index ${index} concurrently`,
    counts: 'index',
    sql:
      `SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace ` +
      `WHERE n.nspname = ${quoteLiteral(schema)} AND c.relname = ${quoteLiteral(index)} AND i.indisvalid) THEN 0 ELSE 1 END::bigint AS n, ARRAY['${index.replace(/'/g, "''")} missing or INVALID']::text[] AS sample`,
  };
}

/** The object work of a concurrently built index: create_index and add_unique share it. */
export function indexWork(op: CreateIndex, ctx: ObjectContext, field: string, label: string): Required<Pick<ObjectWork, 'live' | 'trial' | 'checks' | 'rollbackBefore'>> & { build: ObjectStep } {
  const schema = ctx.table.schema;
  op.columns.forEach((e, i) => {
    if ('column' in e) knownColumn(ctx, `${field}.columns[${i}]`, e.column);
  });
  op.include.forEach((c, i) => knownColumn(ctx, `${field}.include[${i}]`, c));
  const build: ObjectStep = {
    kind: 'create_index',
    id: `create-index-${op.name}`,
    schema,
    index: op.name,
    sql: createIndexSql(op, tableSql(ctx.table), true),
    ...(op.unique ? { hint: 'rows share a key (tandem verify lists them): fix them, then run the step again' } : {}),
  };
  return {
    build,
    live: [relationAbsent(`${field}.name`, schema, op.name, 'index')],
    // A plain CREATE INDEX on the empty temporary copy proves columns, expressions (IMMUTABLE), method, INCLUDE and WHERE.
    trial: [{ id: `${field}`, sql: createIndexSql({ ...op, name: `_tandem_trial_${op.name}`.slice(0, 63) }, `pg_temp.${quoteIdent(ctx.table.name)}`, false) }],
    checks: op.unique
      ? [duplicatesCheck(`${label}: rows with a duplicate key`, ctx.table, op.columns, op.where)]
      : [indexValidCheck(`${label}: the index is missing or INVALID`, schema, op.name)],
    rollbackBefore: [{ kind: 'drop_index', id: `drop-index-${op.name}`, schema, index: op.name }],
  };
}

export const createIndex: OperationDefinition<CreateIndex> = {
  kind: 'create_index',
  objectOnly: true,
  parse(body, field) {
    expectKeys(field, body, ['name', 'columns', 'unique', 'method', 'where', 'include']);
    const name = checkObjectName(`${field}.name`, required(`${field}.name`, body.name, 'the index name'), 'index');
    const columns = parseIndexElements(`${field}.columns`, required(`${field}.columns`, body.columns, 'the indexed columns or expressions'));
    const unique = expectBoolean(`${field}.unique`, body.unique, false);
    const method = body.method === undefined ? 'btree' : body.method;
    if (typeof method !== 'string' || !(INDEX_METHODS as readonly string[]).includes(method)) {
      throw new SpecError(`${field}.method`, `must be one of ${INDEX_METHODS.join(', ')}`);
    }
    if (unique && method !== 'btree') throw new SpecError(`${field}.method`, `is ${method}, but only btree indexes can be unique`);
    const where = body.where === undefined ? undefined : checkExpression(`${field}.where`, body.where);
    const include = body.include === undefined ? [] : nameList(`${field}.include`, body.include, 'columns to include');
    return { name, columns, unique, method, where, include };
  },
  objects(op, ctx, field): ObjectWork {
    const label = `create_index ${op.name}`;
    const { build, ...work } = indexWork(op, ctx, field, label);
    return { kind: 'create_index', field, label, ...work, ...(op.unique ? { beforeContract: [build] } : { afterExpand: [build] }) };
  },
};
