import Ajv2020 from 'ajv/dist/2020';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { SPEC_SCHEMA_PATH, specJsonSchema, specJsonSchemaText } from '../phases/sql/spec-schema';
import { parseSpec } from '../phases/sql/spec';
import { OPERATION_KINDS, operationOf } from '../phases/sql/operations';

const ROOT = path.join(__dirname, '..');
const MIGRATIONS = path.join(ROOT, 'migrations');

describe('the JSON Schema of spec files', () => {
  const validate = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true }).compile(specJsonSchema());

  it("is committed as generated from the operations' declared fields (run `npm run schema` after changing them)", () => {
    expect(fs.readFileSync(path.join(ROOT, SPEC_SCHEMA_PATH), 'utf8')).toBe(specJsonSchemaText());
  });

  // The examples of every operation, and pgroll's examples as Tandem specs (migrations/pgroll/).
  const examples = [
    ...fs.readdirSync(MIGRATIONS).filter((f) => f.endsWith('.yaml')),
    ...fs
      .readdirSync(path.join(MIGRATIONS, 'pgroll'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => path.join('pgroll', f)),
  ];
  it.each(examples)('accepts the example %s, which the parser accepts too', (file) => {
    const text = fs.readFileSync(path.join(MIGRATIONS, file), 'utf8');
    parseSpec(text, file);
    const ok = validate(parse(text));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it.each([
    ['an unknown operation', { name: 'x', table: 't', operations: [{ split_colum: {} }] }],
    ['an unknown field', { name: 'x', table: 't', operations: [{ drop_index: { name: 'i', concurrently: true } }] }],
    ['a missing required field', { name: 'x', table: 't', operations: [{ add_check: { name: 'c' } }] }],
    [
      'two operation keys in one entry',
      { name: 'x', table: 't', operations: [{ drop_index: { name: 'i' }, drop_table: { name: 't2' } }] },
    ],
    [
      'a method that is not one',
      { name: 'x', table: 't', operations: [{ create_index: { name: 'i', columns: ['a'], method: 'bree' } }] },
    ],
    ['a bad spec name', { name: 'Bad Name', table: 't', operations: [{ drop_index: { name: 'i' } }] }],
  ])('refuses %s, as the parser does', (_what, spec) => {
    expect(validate(spec)).toBe(false);
    expect(() => parseSpec(JSON.stringify(spec))).toThrow();
  });

  it.each(OPERATION_KINDS.filter((k) => operationOf(k).fields.length > 0))(
    '%s: the parser knows exactly the declared fields',
    (kind) => {
      const names = operationOf(kind).fields.map((f) => f.name);
      const spec = `name: x\ntable: t\noperations:\n  - ${kind}: { not_a_field: 1 }\n`;
      expect(() => parseSpec(spec)).toThrow(
        `operations[0].${kind}.not_a_field: is not a known field (expected one of: ${names.join(', ')})`,
      );
    },
  );
});
