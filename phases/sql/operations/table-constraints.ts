import { SpecError } from '../../errors';
import { checkExpression } from '../expression';
import { checkExistingName, parseTableName, quoteIdent, quoteLiteral, quoteQualified } from '../identifiers';
import { FieldDecl, readFields } from './declared-fields';
import { expectObject } from './fields';
import { FK_ACTIONS } from './add-foreign-key';
import { INDEX_METHODS } from './create-index';
import { checkObjectName, nameList } from './object-fields';
import { CatalogCondition } from './operation';

/**
 * The named constraints of a new table (create_table's `constraints`): primary key, unique, check,
 * foreign key and exclusion, written inside its CREATE TABLE. The table is new and empty, so an
 * exclusion or unique constraint's index is built at once under the lock expand holds anyway.
 */
export type TableConstraint =
  | {
      readonly type: 'primary_key' | 'unique';
      readonly name: string;
      readonly columns: readonly string[];
      readonly include?: readonly string[];
    }
  | { readonly type: 'check'; readonly name: string; readonly check: string }
  | {
      readonly type: 'foreign_key';
      readonly name: string;
      readonly columns: readonly string[];
      readonly references: { readonly schema?: string; readonly table: string; readonly columns: readonly string[] };
      readonly onDelete: keyof typeof FK_ACTIONS;
      readonly onUpdate: keyof typeof FK_ACTIONS;
    }
  | {
      readonly type: 'exclude';
      readonly name: string;
      readonly method: string;
      readonly elements: readonly ExclusionElement[];
      readonly where?: string;
    };

export interface ExclusionElement {
  readonly column?: string;
  readonly expression?: string;
  readonly opclass?: string;
  /** The operator the element is compared with (`=`, `&&`). */
  readonly with: string;
}

export const CONSTRAINT_TYPES = ['primary_key', 'unique', 'check', 'foreign_key', 'exclude'] as const;
const ACTIONS = Object.keys(FK_ACTIONS);
/** An operator: symbols only (`=`, `&&`, `<>`, `-|-`), so nothing else reaches the DDL. */
const OPERATOR = /^[+\-*/<>=~!@#%^&|`?]{1,63}$/;
/** An operator class: a plain or schema-qualified name. */
const OPCLASS = /^(?:[a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/;

const REFERENCES: readonly FieldDecl[] = [
  { name: 'table', type: 'string', required: true, description: 'the referenced table, `table` or `schema.table`' },
  {
    name: 'columns',
    type: 'strings',
    required: true,
    description: 'the referenced columns (a primary key or unique index of that table)',
  },
];

const ELEMENT: readonly FieldDecl[] = [
  { name: 'column', type: 'string', description: 'a column of the table (or give expression)' },
  { name: 'expression', type: 'string', description: "an expression over the table's columns (or give column)" },
  { name: 'opclass', type: 'string', description: 'the operator class of the element' },
  {
    name: 'with',
    type: 'string',
    required: true,
    description: 'the operator two rows must not both satisfy (=, &&, ...)',
  },
];

export const CONSTRAINT_FIELDS: readonly FieldDecl[] = [
  { name: 'name', type: 'string', required: true, description: 'the constraint name' },
  {
    name: 'type',
    type: 'string',
    required: true,
    enum: CONSTRAINT_TYPES,
    description: 'primary_key, unique, check, foreign_key or exclude',
  },
  { name: 'columns', type: 'strings', description: 'primary_key, unique, foreign_key: its columns' },
  {
    name: 'include',
    type: 'strings',
    description: 'primary_key, unique: columns its index stores beside the key (INCLUDE), not part of it',
  },
  { name: 'check', type: 'string', description: 'check: the condition every row must meet' },
  {
    name: 'references',
    type: 'object',
    fields: REFERENCES,
    description: 'foreign_key: the referenced table and columns',
  },
  {
    name: 'on_delete',
    type: 'string',
    enum: ACTIONS,
    description: 'foreign_key: what a delete of a referenced row does (default no_action)',
  },
  {
    name: 'on_update',
    type: 'string',
    enum: ACTIONS,
    description: 'foreign_key: what an update of a referenced key does (default no_action)',
  },
  { name: 'method', type: 'string', enum: INDEX_METHODS, description: 'exclude: the index method (default gist)' },
  { name: 'elements', type: 'objects', fields: ELEMENT, description: 'exclude: the elements and their operators' },
  { name: 'where', type: 'string', description: 'exclude: the rows it applies to (a partial constraint)' },
];

/** Which fields each type takes (the others are refused, naming the type). */
const TYPE_FIELDS: Readonly<Record<(typeof CONSTRAINT_TYPES)[number], readonly string[]>> = {
  primary_key: ['columns', 'include'],
  unique: ['columns', 'include'],
  check: ['check'],
  foreign_key: ['columns', 'references', 'on_delete', 'on_update'],
  exclude: ['method', 'elements', 'where'],
};

function action(field: string, value: unknown): keyof typeof FK_ACTIONS {
  if (value === undefined) return 'no_action';
  if (typeof value !== 'string' || !ACTIONS.includes(value))
    throw new SpecError(field, `must be one of ${ACTIONS.join(', ')}`);
  return value as keyof typeof FK_ACTIONS;
}

function element(field: string, raw: unknown, columns: readonly string[]): ExclusionElement {
  const body = expectObject(field, raw);
  const get = readFields(field, body, ELEMENT);
  if ((body.column === undefined) === (body.expression === undefined))
    throw new SpecError(field, 'must give one of column or expression');
  const column = body.column === undefined ? undefined : tableColumn(`${field}.column`, body.column, columns);
  const expression =
    body.expression === undefined ? undefined : checkExpression(`${field}.expression`, body.expression);
  const op = get('with');
  if (typeof op !== 'string' || !OPERATOR.test(op))
    throw new SpecError(`${field}.with`, 'must be an operator, e.g. = or &&');
  const opclass = body.opclass === undefined ? undefined : body.opclass;
  if (opclass !== undefined && (typeof opclass !== 'string' || !OPCLASS.test(opclass)))
    throw new SpecError(`${field}.opclass`, 'must be an operator class name, e.g. gist_int4_ops');
  return {
    ...(column ? { column } : {}),
    ...(expression ? { expression } : {}),
    ...(opclass ? { opclass } : {}),
    with: op,
  };
}

function tableColumn(field: string, value: unknown, columns: readonly string[]): string {
  const name = checkExistingName(field, value);
  if (!columns.includes(name)) throw new SpecError(field, `"${name}" is not one of the table's columns`);
  return name;
}

function columnList(field: string, value: unknown, columns: readonly string[], what: string): string[] {
  const names = nameList(field, value, what);
  names.forEach((n, i) => tableColumn(`${field}[${i}]`, n, columns));
  return names;
}

/** One entry of `constraints`, checked against the table's own columns. */
export function parseTableConstraint(field: string, raw: unknown, columns: readonly string[]): TableConstraint {
  const body = expectObject(field, raw);
  const need = readFields(field, body, CONSTRAINT_FIELDS);
  const name = checkObjectName(`${field}.name`, need('name'), 'constraint');
  const type = need('type');
  if (typeof type !== 'string' || !(CONSTRAINT_TYPES as readonly string[]).includes(type))
    throw new SpecError(`${field}.type`, `must be one of ${CONSTRAINT_TYPES.join(', ')}`);
  const t = type as (typeof CONSTRAINT_TYPES)[number];
  for (const key of Object.keys(body)) {
    if (key !== 'name' && key !== 'type' && !TYPE_FIELDS[t].includes(key))
      throw new SpecError(
        `${field}.${key}`,
        `is not a field of a ${t} constraint (it takes: ${TYPE_FIELDS[t].join(', ')})`,
      );
  }
  const missing = (key: string, what: string) => {
    if (body[key] === undefined || body[key] === null) throw new SpecError(`${field}.${key}`, `is missing: ${what}`);
    return body[key];
  };
  switch (t) {
    case 'primary_key':
    case 'unique': {
      const include =
        body.include === undefined ? undefined : columnList(`${field}.include`, body.include, columns, 'columns');
      return {
        type: t,
        name,
        columns: columnList(`${field}.columns`, missing('columns', `the ${t} columns`), columns, 'columns'),
        ...(include ? { include } : {}),
      };
    }
    case 'check':
      return {
        type: t,
        name,
        check: checkExpression(`${field}.check`, missing('check', 'the condition every row must meet')),
      };
    case 'foreign_key': {
      const own = columnList(`${field}.columns`, missing('columns', 'the referencing columns'), columns, 'columns');
      const refs = readFields(
        `${field}.references`,
        expectObject(`${field}.references`, missing('references', 'the referenced table and columns')),
        REFERENCES,
      );
      const target = parseTableName(`${field}.references.table`, refs('table'));
      const refColumns = nameList(`${field}.references.columns`, refs('columns'), 'columns');
      if (refColumns.length !== own.length)
        throw new SpecError(
          `${field}.references.columns`,
          `lists ${refColumns.length} columns for ${own.length} referencing columns`,
        );
      return {
        type: t,
        name,
        columns: own,
        references: { ...target, columns: refColumns },
        onDelete: action(`${field}.on_delete`, body.on_delete),
        onUpdate: action(`${field}.on_update`, body.on_update),
      };
    }
    case 'exclude': {
      const method = body.method === undefined ? 'gist' : body.method;
      if (typeof method !== 'string' || !(INDEX_METHODS as readonly string[]).includes(method))
        throw new SpecError(`${field}.method`, `must be one of ${INDEX_METHODS.join(', ')}`);
      const raw = missing('elements', 'the elements and their operators');
      if (!Array.isArray(raw) || raw.length === 0)
        throw new SpecError(`${field}.elements`, 'must be a non-empty list of { column or expression, with }');
      const elements = raw.map((e, i) => element(`${field}.elements[${i}]`, e, columns));
      const where = body.where === undefined ? undefined : checkExpression(`${field}.where`, body.where);
      return { type: t, name, method, elements, ...(where !== undefined ? { where } : {}) };
    }
  }
}

const cols = (names: readonly string[]) => names.map(quoteIdent).join(', ');

/** The constraint as CREATE TABLE writes it; `schema` qualifies a referenced table named without one. */
export function tableConstraintSql(c: TableConstraint, schema: string): string {
  const head = `CONSTRAINT ${quoteIdent(c.name)}`;
  switch (c.type) {
    case 'primary_key':
      return `${head} PRIMARY KEY (${cols(c.columns)})${c.include ? ` INCLUDE (${cols(c.include)})` : ''}`;
    case 'unique':
      return `${head} UNIQUE (${cols(c.columns)})${c.include ? ` INCLUDE (${cols(c.include)})` : ''}`;
    case 'check':
      return `${head} CHECK (${c.check})`;
    case 'foreign_key':
      return (
        `${head} FOREIGN KEY (${cols(c.columns)}) REFERENCES ${quoteQualified(c.references.schema ?? schema, c.references.table)} (${cols(c.references.columns)})` +
        ` ON DELETE ${FK_ACTIONS[c.onDelete]} ON UPDATE ${FK_ACTIONS[c.onUpdate]}`
      );
    case 'exclude': {
      const elements = c.elements.map(
        (e) =>
          `${e.column !== undefined ? quoteIdent(e.column) : `(${e.expression})`}${e.opclass ? ` ${e.opclass}` : ''} WITH ${e.with}`,
      );
      return `${head} EXCLUDE USING ${c.method} (${elements.join(', ')})${c.where !== undefined ? ` WHERE (${c.where})` : ''}`;
    }
  }
}

/** Does the constraint have an index (named as it is, in the table's schema)? */
export function hasIndex(c: TableConstraint): boolean {
  return c.type === 'primary_key' || c.type === 'unique' || c.type === 'exclude';
}

/**
 * A foreign key's referenced table must exist (or be one this spec creates before it) and the
 * referenced columns be the key columns (not the INCLUDE ones) of a unique, non-partial, immediate
 * index of it, as PostgreSQL requires: checked before expand, since the trial's temporary table
 * cannot reference it.
 */
export function referencedKey(
  field: string,
  c: Extract<TableConstraint, { type: 'foreign_key' }>,
  schema: string,
): CatalogCondition {
  const ref = `to_regclass(${quoteLiteral(quoteQualified(c.references.schema ?? schema, c.references.table))})`;
  const sorted = [...c.references.columns].sort();
  return {
    field: `${field}.references`,
    objectName: c.name,
    sql:
      `SELECT 'no key' AS what WHERE NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = ${ref} AND i.indisunique AND i.indimmediate AND i.indpred IS NULL AND i.indexprs IS NULL ` +
      `AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text COLLATE "C") FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n WHERE k.o <= i.indnkeyatts) = ARRAY[${sorted.map(quoteLiteral).join(', ')}]::text[])`,
    message: `foreign key "${c.name}" references ${c.references.schema ?? schema}.${c.references.table} (${c.references.columns.join(', ')}), which is not a table with a primary key or unique index on exactly those columns`,
  };
}
