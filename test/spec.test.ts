import * as fs from 'fs';
import * as path from 'path';
import { SpecError } from '../phases/errors';
import { checkExpression } from '../phases/sql/expression';
import { checkType, quoteIdent } from '../phases/sql/identifiers';
import { TableInfo } from '../phases/sql/operations';
import { parseSpec, resolveSpec } from '../phases/sql/spec';

const MIGRATIONS = path.join(__dirname, '..', 'migrations');

describe('shipped examples', () => {
  it.each(fs.readdirSync(MIGRATIONS).filter((f) => f.endsWith('.yaml')))('%s parses', (file) => {
    const spec = parseSpec(fs.readFileSync(path.join(MIGRATIONS, file), 'utf8'), file);
    expect(spec.operations.length).toBeGreaterThan(0);
    expect(spec.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("the talk split comes first and has exactly the issue's shape", () => {
    const spec = parseSpec(fs.readFileSync(path.join(MIGRATIONS, 'split-full-name.yaml'), 'utf8'));
    expect(spec).toMatchObject({ name: 'split-full-name', table: 'customers', schema: undefined });
    expect(spec.operations[0]).toMatchObject({
      kind: 'split_column',
      body: { column: 'full_name', down: "concat_ws(' ', first_name, last_name)" },
    });
  });
});

describe('the spec hash', () => {
  const base = 'name: a\ntable: t\noperations:\n  - rename_column: { from: x, to: y }\n';
  it('ignores formatting and changes with content', () => {
    expect(parseSpec(base).hash).toBe(
      parseSpec(base.replace('{ from: x, to: y }', '\n      from: x\n      to: y')).hash,
    );
    expect(parseSpec(base).hash).not.toBe(parseSpec(base.replace('to: y', 'to: z')).hash);
  });
});

describe('offline validation names the field', () => {
  const op = (body: string) => `name: a\ntable: t\noperations:\n  - ${body}\n`;
  it.each([
    ['table: a.b.c', 'name: a\ntable: a.b.c\noperations: [{ rename_column: { from: x, to: y } }]', 'table'],
    ['a name with upper case', 'name: A\ntable: t\noperations: [{ rename_column: { from: x, to: y } }]', 'name'],
    [
      'a 41-character name',
      `name: ${'a'.repeat(41)}\ntable: t\noperations: [{ rename_column: { from: x, to: y } }]`,
      'name',
    ],
    [
      'an unknown top-level key',
      'name: a\ntable: t\nsteps: []\noperations: [{ rename_column: { from: x, to: y } }]',
      'spec.steps',
    ],
    [
      'two keys in one operation',
      op('{ rename_column: { from: x, to: y }, drop_column: { column: z, down: "1" } }'),
      'operations[0]',
    ],
    ['rename to itself', op('rename_column: { from: x, to: x }'), 'operations[0].rename_column.to'],
    [
      'merge of one column',
      op('merge_columns: { columns: [a], into: { name: b, type: text, up: "a" }, down: { a: "b" } }'),
      'operations[0].merge_columns.columns',
    ],
    [
      'merge without a down for each column',
      op('merge_columns: { columns: [a, b], into: { name: c, type: text, up: "a" }, down: { a: "c" } }'),
      'operations[0].merge_columns.down.b',
    ],
    [
      'a down for a column not merged',
      op(
        'merge_columns: { columns: [a, b], into: { name: c, type: text, up: "a" }, down: { a: "c", b: "c", z: "c" } }',
      ),
      'operations[0].merge_columns.down.z',
    ],
    [
      'NOT NULL add_column without default or up',
      op('add_column: { name: s, type: text, not_null: true }'),
      'operations[0].add_column.not_null',
    ],
    [
      'not_null that is not a boolean',
      op('add_column: { name: s, type: text, not_null: "yes" }'),
      'operations[0].add_column.not_null',
    ],
    ['a reserved _tandem name', op('add_column: { name: _tandem_x, type: text }'), 'operations[0].add_column.name'],
    [
      'change_type without down',
      op('change_type: { column: p, type: int, up: "p::int" }'),
      'operations[0].change_type.down',
    ],
    [
      'split into an empty list',
      op('split_column: { column: c, into: [], down: "x" }'),
      'operations[0].split_column.into',
    ],
    [
      'operations that is a mapping',
      'name: a\ntable: t\noperations: { rename_column: { from: x, to: y } }',
      'operations',
    ],
    ['a duplicate key', 'name: a\nname: b\ntable: t\noperations: [{ rename_column: { from: x, to: y } }]', ''],
  ])('%s', (_what, text, field) => {
    let error: unknown;
    try {
      parseSpec(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).field).toBe(field);
  });
});

describe('expressions stay one expression', () => {
  it.each([
    "split_part(full_name, ' ', 1)",
    "concat_ws(' ', first_name, last_name)",
    "'it''s; fine -- really'",
    "ée || 'x'",
    "E'a\\'; b'",
    '"odd;name" || \'x\'',
    '$$;$$ || $q$ -- $q$',
    'coalesce(a, (b))',
  ])('accepts %s', (expr) => {
    expect(checkExpression('up', expr)).toBe(expr);
  });

  it.each([
    ['1; DROP TABLE t', /semicolon/],
    ['a) OR (true', /unbalanced closing parenthesis/],
    ['(a', /unclosed parenthesis/],
    ["'open", /unclosed string literal/],
    ['"open', /unclosed quoted name/],
    ['$x$ open', /unclosed dollar-quoted/],
    ['a -- b', /comment/],
    ['a /* b */', /comment/],
    ['$tandem_body$', /reserves/],
    ["ée'\\'; DROP TABLE x; --'", /comment|semicolon/], // é is an identifier letter, so '\' is a plain string
    ['', /must be a SQL expression/],
  ])('refuses %j', (expr, message) => {
    expect(() => checkExpression('up', expr)).toThrow(message);
  });
});

describe('types', () => {
  it.each([
    'text',
    'varchar(20)',
    'numeric(10, 2)',
    'timestamp with time zone',
    'double precision',
    'text[]',
    'public.mood',
    'character varying(200)',
  ])('accepts %s', (t) => {
    expect(() => checkType('type', t)).not.toThrow();
  });
  it.each(['text; drop table x', 'text)', "text default 'x'", '', 'varchar(a)'])('refuses %j', (t) => {
    expect(() => checkType('type', t)).toThrow(SpecError);
  });
});

describe('quoting', () => {
  it.each([
    ['full_name', '"full_name"'],
    ['Weird"Name', '"Weird""Name"'],
    ['x"; DROP TABLE t; --', '"x""; DROP TABLE t; --"'],
  ])('%s -> %s', (name, quoted) => expect(quoteIdent(name)).toBe(quoted));
});

describe('resolving against the table', () => {
  const table = (columns: string[], pk = ['id']): TableInfo => ({
    oid: 1,
    schema: 'public',
    name: 't',
    columns: [...pk, ...columns].map((name) => ({ name, type: 'text', notNull: false, hasDefault: false })),
    primaryKey: pk.map((name) => ({ name, type: 'bigint', notNull: true, hasDefault: false })),
  });
  const spec = parseSpec('name: a\ntable: t\noperations:\n  - rename_column: { from: x, to: y }\n');

  it('maps rename onto a copy column kept equal both ways', () => {
    const resolved = resolveSpec(spec, table(['x']));
    expect(resolved.mappings).toEqual([
      expect.objectContaining({
        oldColumns: ['x'],
        newColumns: [expect.objectContaining({ name: 'y', type: 'text', up: '"x"' })],
        down: { x: '"y"' },
      }),
    ]);
  });
  it.each([
    ['no primary key', table(['x'], []), /has no primary key/],
    ['a missing column', table(['z']), /column "x" does not exist/],
    ['a clashing column', table(['x', 'y']), /column "y" already exists/],
    ['a half-done migration', table(['x', '_tandem_pending']), /another Tandem migration is in progress/],
  ])('refuses %s', (_what, t, message) => {
    expect(() => resolveSpec(spec, t)).toThrow(message);
  });
  it('refuses to retire a primary key column', () => {
    const s = parseSpec('name: a\ntable: t\noperations:\n  - drop_column: { column: id, down: "1" }\n');
    expect(() => resolveSpec(s, table([]))).toThrow(/part of the primary key/);
  });
});

describe('new column names the sync trigger could not use', () => {
  it.each(['new', 'OLD', 'found', 'tg_op', 'TG_argv'])('refuses %s', (name) => {
    expect(() => parseSpec(`name: a\ntable: t\noperations:\n  - rename_column: { from: x, to: ${name} }\n`)).toThrow(
      /PL\/pgSQL triggers reserve/,
    );
  });
});

describe('derived names', () => {
  it('keeps two long column names apart instead of truncating them into one', () => {
    const { derivedNames } = require('../phases/sql/plan');
    const names = derivedNames({ spec: { name: 'a'.repeat(40) } });
    const a = names.notNullCheck('customer_email_primary_address_for_billing');
    const b = names.notNullCheck('customer_email_primary_address_for_billing_2');
    expect(a).not.toBe(b);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63);
  });
});
