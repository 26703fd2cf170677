import { RefusedError, SpecError } from '../../errors';
import { checkExpression } from '../expression';
import { checkExistingName, checkNewName, checkType, fitIdentifier, quoteIdent, quoteLiteral, quoteQualified } from '../identifiers';
import { expectBoolean, expectObject } from './fields';
import { FieldDecl, readFields } from './declared-fields';
import { checkObjectName, nameList, relationAbsent } from './object-fields';
import { ObjectWork, OperationDefinition } from './operation';

/**
 * create_table: created inside expand's transaction, in the spec table's schema; the old versions
 * never name it. Rollback drops it, with whatever the new versions wrote into it (it did not exist
 * before expand). Grant the app role its DML on it as on any table.
 */
export interface CreateTable {
  name: string;
  columns: { name: string; type: string; notNull: boolean; default?: string }[];
  primaryKey: string[];
}

const COLUMN_FIELDS: readonly FieldDecl[] = [
  { name: 'name', type: 'string', required: true, description: 'the column name' },
  { name: 'type', type: 'string', required: true, description: 'the column type' },
  { name: 'not_null', type: 'boolean', description: 'NOT NULL' },
  { name: 'default', type: 'scalar', description: 'its default (an SQL expression)' },
];

const CREATE_FIELDS: readonly FieldDecl[] = [
  { name: 'name', type: 'string', required: true, description: 'the new table name' },
  { name: 'columns', type: 'objects', required: true, description: 'the new table columns', fields: COLUMN_FIELDS },
  { name: 'primary_key', type: 'strings', required: true, description: 'the primary key columns' },
];

export const createTable: OperationDefinition<CreateTable> = {
  kind: 'create_table',
  summary: 'A new table, created inside expand\'s transaction in the spec table\'s schema; rollback drops it.',
  fields: CREATE_FIELDS,
  objectOnly: true,
  creates: (op) => [op.name],
  createsTables: (op) => [op.name],
  parse(body, field) {
    const need = readFields(field, body, CREATE_FIELDS);
    const name = checkObjectName(`${field}.name`, need('name'), 'table');
    const raw = need('columns');
    if (!Array.isArray(raw) || raw.length === 0) throw new SpecError(`${field}.columns`, 'must be a non-empty list of columns');
    const columns = raw.map((c, i) => {
      const f = `${field}.columns[${i}]`;
      const col = expectObject(f, c);
      const get = readFields(f, col, COLUMN_FIELDS);
      const d = col.default;
      return {
        name: checkNewName(`${f}.name`, get('name')),
        type: checkType(`${f}.type`, get('type')),
        notNull: expectBoolean(`${f}.not_null`, col.not_null, false),
        ...(d === undefined ? {} : { default: checkExpression(`${f}.default`, typeof d === 'number' || typeof d === 'boolean' ? String(d) : d) }),
      };
    });
    const twice = columns.find((c, i) => columns.findIndex((x) => x.name === c.name) !== i);
    if (twice) throw new SpecError(`${field}.columns`, `lists column "${twice.name}" twice`);
    const primaryKey = nameList(`${field}.primary_key`, need('primary_key'), 'primary key columns');
    primaryKey.forEach((k, i) => {
      if (!columns.some((c) => c.name === k)) throw new SpecError(`${field}.primary_key[${i}]`, `"${k}" is not one of the table's columns`);
    });
    return { name, columns, primaryKey };
  },
  objects(op, ctx, field): ObjectWork {
    const schema = ctx.table.schema;
    const body = (on: string) =>
      `CREATE TABLE ${on} (\n  ${[
        ...op.columns.map((c) => `${quoteIdent(c.name)} ${c.type}${c.notNull ? ' NOT NULL' : ''}${c.default !== undefined ? ` DEFAULT (${c.default})` : ''}`),
        `PRIMARY KEY (${op.primaryKey.map(quoteIdent).join(', ')})`,
      ].join(',\n  ')}\n)`;
    const t = quoteQualified(schema, op.name);
    return {
      kind: 'create_table',
      field,
      label: `create_table ${op.name}`,
      live: [relationAbsent(`${field}.name`, schema, op.name, 'table')],
      createsTables: [{ schema, name: op.name }],
      trial: [{ id: field, sql: body(`pg_temp.${quoteIdent(fitIdentifier(`_tandem_trial_${op.name}`))}`) }],
      expand: [{ id: `create-table-${op.name}`, sql: body(t) }],
      rollback: [{ id: `drop-table-${op.name}`, sql: `DROP TABLE IF EXISTS ${t}` }],
    };
  },
};

/**
 * drop_table: the old versions use the table until contract; contract's transaction drops it (a
 * catalog-only change under lock_timeout). Contract refuses while another table's foreign key or a
 * view depends on it, naming them: nothing is dropped silently (no CASCADE).
 */
export interface DropTable {
  name: string;
}

const DROP_FIELDS: readonly FieldDecl[] = [{ name: 'name', type: 'string', required: true, description: 'the table to drop' }];

export const dropTable: OperationDefinition<DropTable> = {
  kind: 'drop_table',
  summary: 'A table the old versions use until contract, dropped inside contract\'s transaction (refused while something depends on it).',
  fields: DROP_FIELDS,
  objectOnly: true,
  parse(body, field) {
    const need = readFields(field, body, DROP_FIELDS);
    return { name: checkExistingName(`${field}.name`, need('name')) };
  },
  objects(op, ctx, field): ObjectWork {
    const schema = ctx.table.schema;
    if (op.name === ctx.table.name) throw new SpecError(`${field}.name`, `is the spec's own table ${schema}.${op.name}, which carries the migration; drop it in a spec of another table`);
    const t = quoteQualified(schema, op.name);
    const oid = `to_regclass(${quoteLiteral(t)})`;
    const name = `${schema}.${op.name}`;
    return {
      kind: 'drop_table',
      field,
      label: `drop_table ${op.name}`,
      dropsTables: [{ schema, name: op.name }],
      live: [
        {
          field: `${field}.name`,
          objectName: name,
          sql: `SELECT 'missing' AS what WHERE NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = ${oid} AND relkind IN ('r', 'p'))`,
          message: `table ${name} does not exist`,
        },
      ],
      contractBlockers: [
        {
          field: `${field}.name`,
          objectName: name,
          sql: `SELECT format('foreign key %I of table %s', conname, conrelid::regclass) AS what FROM pg_constraint WHERE contype = 'f' AND confrelid = ${oid} AND conrelid <> confrelid`,
          message: `contract refused: dropping table ${name} would break what references it`,
        },
        {
          field: `${field}.name`,
          objectName: name,
          sql: `SELECT DISTINCT format('view %s', r.ev_class::regclass) AS what FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = ${oid} AND r.ev_class <> ${oid}`,
          message: `contract refused: dropping table ${name} would break the views on it`,
        },
      ],
      contract: [{ id: `drop-table-${op.name}`, sql: `DROP TABLE ${t}` }],
    };
  },
};

/** rename_table: refused; see the sentence. */
export const renameTable: OperationDefinition<Record<string, unknown>> = {
  kind: 'rename_table',
  summary: 'Refused: without views in front of the table, the old and the new name cannot both work.',
  fields: [],
  objectOnly: true,
  parse(_body, field) {
    throw new RefusedError(
      `${field}: rename_table is refused: without views in front of the table, the old and the new name can only both work through a second table kept in sync row by row both ways, ` +
        'which doubles every write and cannot keep foreign keys, sequences and the rows of in-flight transactions one; rename the table in a maintenance window, or add a view yourself',
    );
  },
};
