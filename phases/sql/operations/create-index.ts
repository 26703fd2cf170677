import { SpecError } from '../../errors';
import { checkExpression } from '../expression';
import { checkExistingName, fitIdentifier, quoteIdent, quoteLiteral } from '../identifiers';
import { expectBoolean, expectKeys, expectObject, required } from './fields';
import { FieldDecl, readFields } from './declared-fields';
import {
  checkObjectName,
  keyJson,
  knownColumn,
  nameList,
  notPartitioned,
  regclass,
  relationAbsent,
  tableSql,
} from './object-fields';
import { lexSql } from '../sql-lexer';
import {
  CatalogCondition,
  ObjectCheck,
  ObjectContext,
  ObjectTask,
  ObjectWork,
  OperationDefinition,
  TableInfo,
} from './operation';

/**
 * create_index: CREATE INDEX CONCURRENTLY, outside any transaction, under lock_timeout and
 * without statement_timeout; writes go on while it builds. An INVALID index a failed or killed
 * build left behind is found (pg_index.indisvalid), dropped concurrently and rebuilt. A plain
 * index is built right after expand commits; a UNIQUE one only before contract, when only the new
 * versions run: built earlier, it would refuse an old version's duplicate write. Verify reports the
 * duplicates by key beforehand. Rollback drops it concurrently.
 *
 * On a partitioned table (no CONCURRENTLY there) it is built as PostgreSQL documents: an index ON
 * ONLY the partitioned table (catalog only, INVALID), each partition's index built concurrently
 * and attached (ALTER INDEX ... ATTACH PARTITION); the last attach makes it valid.
 */
/** A key of the index: a column or an expression, with its operator class when it is not the type's default. */
export type IndexElement = ({ column: string } | { expression: string }) & { opclass?: string };

/** A storage parameter's value: a number, true/false, or a word (`on`, `auto`). */
export type StorageValue = number | boolean | string;

export interface CreateIndex {
  name: string;
  columns: IndexElement[];
  unique: boolean;
  method: string;
  where?: string;
  include: string[];
  /** Storage parameters (WITH (...)): absent when none are given. */
  with?: Record<string, StorageValue>;
}

/** An operator class: a plain or schema-qualified lowercase name (text_pattern_ops, public.gin_trgm_ops). */
const OPCLASS = /^(?:[a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/;
const PARAMETER = /^[a-z_][a-z0-9_]*$/;
const WORD = /^[A-Za-z0-9_.+-]+$/;

/** `with`: storage parameters by name; PostgreSQL (the trial) judges whether the method takes them. */
export function parseStorageParameters(field: string, value: unknown): Record<string, StorageValue> {
  const body = expectObject(field, value);
  const out: Record<string, StorageValue> = {};
  if (Object.keys(body).length === 0)
    throw new SpecError(field, 'must name at least one storage parameter, e.g. { fillfactor: 70 }');
  for (const [key, v] of Object.entries(body)) {
    if (!PARAMETER.test(key))
      throw new SpecError(
        `${field}.${key}`,
        'is not a storage parameter name (lowercase letters, digits and underscores)',
      );
    if (typeof v === 'number' && Number.isFinite(v)) out[key] = v;
    else if (typeof v === 'boolean') out[key] = v;
    else if (typeof v === 'string' && WORD.test(v)) out[key] = v;
    else throw new SpecError(`${field}.${key}`, 'must be a number, true or false, or a word such as on or auto');
  }
  return out;
}

function storageSql(params: Record<string, StorageValue>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k} = ${typeof v === 'string' ? quoteLiteral(v) : String(v)}`)
    .join(', ');
}

export const INDEX_METHODS = ['btree', 'hash', 'gist', 'gin', 'brin', 'spgist'] as const;

export function parseIndexElements(field: string, value: unknown): IndexElement[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new SpecError(field, 'must be a non-empty list of column names or { expression: ... }');
  return value.map((raw, i): IndexElement => {
    const f = `${field}[${i}]`;
    if (typeof raw === 'string') return { column: checkExistingName(f, raw) };
    const body = expectObject(f, raw);
    expectKeys(f, body, ['column', 'expression', 'opclass']);
    const opclass = body.opclass;
    if (opclass !== undefined && (typeof opclass !== 'string' || !OPCLASS.test(opclass)))
      throw new SpecError(`${f}.opclass`, 'must be an operator class name, e.g. text_pattern_ops');
    const withClass = opclass !== undefined ? { opclass: opclass as string } : {};
    if (body.column !== undefined && body.expression !== undefined)
      throw new SpecError(f, 'must give one of column or expression');
    if (body.column !== undefined) return { column: checkExistingName(`${f}.column`, body.column), ...withClass };
    return {
      expression: checkExpression(
        `${f}.expression`,
        required(`${f}.expression`, body.expression, 'an index expression'),
      ),
      ...withClass,
    };
  });
}

export function elementSql(e: IndexElement): string {
  return 'column' in e ? quoteIdent(e.column) : `(${e.expression})`;
}

/** What follows `ON table` in CREATE INDEX: method, elements (with their operator classes), INCLUDE, WITH, WHERE. */
export function indexDefinitionSql(op: CreateIndex): string {
  const include = op.include.length ? ` INCLUDE (${op.include.map(quoteIdent).join(', ')})` : '';
  const params = op.with ? ` WITH (${storageSql(op.with)})` : '';
  const where = op.where !== undefined ? ` WHERE (${op.where})` : '';
  return `USING ${op.method} (${op.columns.map((e) => `${elementSql(e)}${e.opclass ? ` ${e.opclass}` : ''}`).join(', ')})${include}${params}${where}`;
}

/** The statement that builds the index, concurrently, on `on` (the table, or its temporary copy for the trial). */
export function createIndexSql(op: CreateIndex, on: string, concurrently: boolean): string {
  return `CREATE ${op.unique ? 'UNIQUE ' : ''}INDEX${concurrently ? ' CONCURRENTLY' : ''} ${quoteIdent(op.name)} ON ${on} ${indexDefinitionSql(op)}`;
}

/**
 * A unique index on a partitioned table must contain every partition key column, at every level
 * of partitioning (PostgreSQL enforces uniqueness per partition). Refused at validate otherwise,
 * since the trial runs on a plain copy of the table.
 */
function partitionKeyCovered(field: string, ctx: ObjectContext, op: CreateIndex): CatalogCondition {
  const columns = op.columns.flatMap((e) => ('column' in e ? [e.column] : []));
  return {
    field: `${field}.columns`,
    objectName: op.name,
    sql:
      `SELECT coalesce(string_agg(DISTINCT CASE WHEN k.attnum = 0 THEN format('an expression of %s', pt.partrelid::regclass) ELSE a.attname::text END, ', '), 'none') AS what ` +
      `FROM pg_partitioned_table pt CROSS JOIN LATERAL unnest(pt.partattrs::int2[]) AS k(attnum) LEFT JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = k.attnum ` +
      `WHERE pt.partrelid IN (SELECT relid FROM pg_partition_tree(${regclass(ctx.table)})) AND (k.attnum = 0 OR a.attname <> ALL (ARRAY[${columns.map(quoteLiteral).join(', ') || "''"}]::text[])) HAVING count(*) > 0`,
    message: `a unique index on the partitioned table ${ctx.table.schema}.${ctx.table.name} must contain every partition key column (PostgreSQL checks uniqueness per partition); add them to the index's columns`,
  };
}

/** Rows that share their key with another row (NULLs are distinct, as in a unique index): verify reports them by key. */
export function duplicatesCheck(
  label: string,
  table: TableInfo,
  elements: IndexElement[],
  where?: string,
): ObjectCheck {
  const keys = elements.map(elementSql);
  const filters = [...keys.map((k) => `${k} IS NOT NULL`), ...(where !== undefined ? [`(${where})`] : [])];
  return {
    label,
    fix: "change the rows with a duplicate key so each key is unique (their data, not Tandem's)",
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

/** Does an expression or the predicate of the index qualify a column with the table's name (`t.col`)? */
function namesTable(op: CreateIndex, table: string): boolean {
  const texts = [
    ...op.columns.flatMap((e) => ('expression' in e ? [e.expression] : [])),
    ...(op.where !== undefined ? [op.where] : []),
  ];
  return texts.some((text) => {
    let tokens;
    try {
      tokens = lexSql(text);
    } catch {
      return false; // PostgreSQL's own parse (the trial) judges it
    }
    return tokens.some(
      (t, i) =>
        t.kind === 'word' &&
        (t.quoted ? t.text === table : t.text === table.toLowerCase()) &&
        tokens[i + 1]?.text === '.',
    );
  });
}

/** The object work of a concurrently built index: create_index and add_unique share it. */
export function indexWork(
  op: CreateIndex,
  ctx: ObjectContext,
  field: string,
  label: string,
): Required<Pick<ObjectWork, 'live' | 'trial' | 'checks' | 'beforeRollback'>> & { build: ObjectTask } {
  const schema = ctx.table.schema;
  op.columns.forEach((e, i) => {
    if ('column' in e) knownColumn(ctx, `${field}.columns[${i}]`, e.column);
  });
  op.include.forEach((c, i) => knownColumn(ctx, `${field}.include[${i}]`, c));
  const build: ObjectTask = {
    kind: 'index_build',
    id: `create-index-${op.name}`,
    schema,
    index: op.name,
    sql: createIndexSql(op, tableSql(ctx.table), true),
    unique: op.unique,
    definition: indexDefinitionSql(op),
    ...(op.unique ? { hint: 'rows share a key (tandem verify lists them): fix them, then run the step again' } : {}),
  };
  return {
    build,
    live: [
      relationAbsent(`${field}.name`, schema, op.name, 'index'),
      ...(op.unique ? [partitionKeyCovered(field, ctx, op)] : []),
      ...(namesTable(op, ctx.table.name)
        ? [
            notPartitioned(
              field,
              ctx.table,
              op.name,
              `an index expression that names the table (${ctx.table.name}.column) cannot be built on its partitions, which have other names; use bare column names`,
            ),
          ]
        : []),
    ],
    // A plain CREATE INDEX on the empty temporary copy proves columns, expressions (IMMUTABLE), method, INCLUDE and WHERE.
    trial: [
      {
        id: `${field}`,
        sql: createIndexSql(
          { ...op, name: fitIdentifier(`_tandem_trial_${op.name}`) },
          `pg_temp.${quoteIdent(ctx.table.name)}`,
          false,
        ),
      },
    ],
    checks: op.unique
      ? [duplicatesCheck(`${label}: rows with a duplicate key`, ctx.table, op.columns, op.where)]
      : [
          indexValidCheck(
            `${label}: the index is missing or INVALID (run tandem expand again to build it)`,
            schema,
            op.name,
          ),
        ],
    beforeRollback: [{ kind: 'index_drop', id: `drop-index-${op.name}`, schema, index: op.name, created: true }],
  };
}

const FIELDS: readonly FieldDecl[] = [
  { name: 'name', type: 'string', required: true, description: 'the index name' },
  { name: 'columns', type: 'elements', required: true, description: 'the indexed columns or expressions' },
  {
    name: 'unique',
    type: 'boolean',
    description: 'a unique index (built before contract, when only the new versions run)',
  },
  { name: 'method', type: 'string', enum: INDEX_METHODS, description: 'the index method (default btree)' },
  { name: 'where', type: 'string', description: "a partial index's predicate" },
  { name: 'include', type: 'strings', description: 'columns stored in the index but not part of its key (INCLUDE)' },
  {
    name: 'with',
    type: 'options',
    description: 'storage parameters (WITH (...)), e.g. { fillfactor: 70 } or { fastupdate: false }',
  },
];

export const createIndex: OperationDefinition<CreateIndex> = {
  kind: 'create_index',
  summary: 'An index built concurrently after expand (a unique one before contract); rollback drops it concurrently.',
  fields: FIELDS,
  objectOnly: true,
  creates: (op) => [op.name],
  parse(body, field) {
    const need = readFields(field, body, FIELDS);
    const name = checkObjectName(`${field}.name`, need('name'), 'index');
    const columns = parseIndexElements(`${field}.columns`, need('columns'));
    const unique = expectBoolean(`${field}.unique`, body.unique, false);
    const method = body.method === undefined ? 'btree' : body.method;
    if (typeof method !== 'string' || !(INDEX_METHODS as readonly string[]).includes(method)) {
      throw new SpecError(`${field}.method`, `must be one of ${INDEX_METHODS.join(', ')}`);
    }
    if (unique && method !== 'btree')
      throw new SpecError(`${field}.method`, `is ${method}, but only btree indexes can be unique`);
    const where = body.where === undefined ? undefined : checkExpression(`${field}.where`, body.where);
    const include = body.include === undefined ? [] : nameList(`${field}.include`, body.include, 'columns to include');
    const params = body.with === undefined ? undefined : parseStorageParameters(`${field}.with`, body.with);
    return { name, columns, unique, method, where, include, ...(params ? { with: params } : {}) };
  },
  objects(op, ctx, field): ObjectWork {
    const label = `create_index ${op.name}`;
    const { build, ...work } = indexWork(op, ctx, field, label);
    return {
      kind: 'create_index',
      field,
      label,
      ...work,
      ...(op.unique ? { beforeContract: [build] } : { afterExpand: [build] }),
    };
  },
};
