import { SpecError } from '../../errors';
import { FieldDecl, readFields } from './declared-fields';
import { ObjectStatement, ObjectWork, OperationDefinition } from './operation';
import { rawSqlProblem } from './raw-sql-guard';

/**
 * raw_sql: the explicit escape hatch. `up` runs inside expand's transaction, `down` inside
 * rollback's, `contract` inside contract's; a raw_sql has `up` and `down`, or `contract`, or all three; each entry is exactly one statement (the
 * extended protocol refuses more). Tandem checks only that they leave the step's transaction and
 * bounds alone (no transaction control, no change of the timeouts or the role: see
 * raw-sql-guard.ts); no guarantee of the other operations (old writes unaltered, no long lock,
 * exact rollback) holds for what they do.
 */
export interface RawSql {
  up: string[];
  down: string[];
  contract: string[];
}

function statements(field: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0)
    throw new SpecError(field, 'must be a SQL statement or a non-empty list of them');
  return list.map((s, i) => {
    const f = Array.isArray(value) ? `${field}[${i}]` : field;
    if (typeof s !== 'string' || s.trim().length === 0) throw new SpecError(f, 'must be a non-empty SQL statement');
    if (s.includes('\0')) throw new SpecError(f, 'must not contain a NUL character');
    const sql = s.trim().replace(/;\s*$/, '');
    const problem = rawSqlProblem(sql);
    if (problem)
      throw new SpecError(f, `refused: ${problem}; raw_sql runs inside the step's own transaction, under its bounds`);
    return sql;
  });
}

const named = (step: string, list: string[]): ObjectStatement[] =>
  list.map((sql, i) => ({ id: `raw-sql-${step}-${i + 1}`, sql, untrusted: true }));

const FIELDS: readonly FieldDecl[] = [
  { name: 'up', type: 'statements', description: 'the SQL that expand runs (with its down); up or contract, or both' },
  { name: 'down', type: 'statements', description: 'the SQL that rollback runs to undo up' },
  { name: 'contract', type: 'statements', description: 'the SQL that contract runs' },
];

export const rawSql: OperationDefinition<RawSql> = {
  kind: 'raw_sql',
  summary: "Your own SQL, one statement per entry, inside expand's, rollback's and contract's transactions.",
  fields: FIELDS,
  objectOnly: true,
  ownTable: true,
  parse(body, field) {
    readFields(field, body, FIELDS);
    // Each step only where it is needed: `contract` alone (nothing at expand, nothing to undo), or
    // `up` with the `down` that undoes it at rollback.
    if (body.up === undefined && body.contract === undefined)
      throw new SpecError(
        field,
        'needs `up` (run at expand, with its `down`) or `contract` (run at contract), or both',
      );
    if (body.up === undefined && body.down !== undefined)
      throw new SpecError(`${field}.down`, 'undoes `up` at rollback, and there is no `up`');
    if (body.up !== undefined && body.down === undefined)
      throw new SpecError(`${field}.down`, 'is missing: the SQL that rollback runs to undo up');
    return {
      up: body.up === undefined ? [] : statements(`${field}.up`, body.up),
      down: body.up === undefined ? [] : statements(`${field}.down`, body.down),
      contract: body.contract === undefined ? [] : statements(`${field}.contract`, body.contract),
    };
  },
  objects(op, _ctx, field): ObjectWork {
    return {
      kind: 'raw_sql',
      field,
      label: 'raw_sql',
      expand: named('up', op.up),
      rollback: named('down', op.down),
      contract: named('contract', op.contract),
    };
  },
};
