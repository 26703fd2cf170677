import { SpecError } from '../../errors';
import { expectKeys } from './fields';

/**
 * An operation's fields, declared once (in its own file): the parser reads its known keys and
 * its missing-field messages from the declaration, and the JSON Schema for spec files
 * (schema/tandem-spec.schema.json, `npm run schema`) is generated from it.
 */
export interface FieldDecl {
  readonly name: string;
  /**
   * - `string`: a non-empty string (a name, a type, an expression), `enum` when it is one of a list;
   * - `scalar`: a string, a number or true/false (an SQL default written as YAML);
   * - `boolean`; `integer`;
   * - `strings`: a non-empty list of strings; `statements`: a string or a non-empty list of them;
   * - `map`: a mapping of names to strings; `object`: a mapping with `fields`; `objects`: a non-empty list of them;
   * - `elements`: a non-empty list of column names or `{ column or expression, opclass }` mappings (an index's keys);
   * - `options`: a mapping of names to numbers, true/false or words (storage parameters).
   */
  readonly type:
    | 'string'
    | 'scalar'
    | 'boolean'
    | 'integer'
    | 'strings'
    | 'statements'
    | 'map'
    | 'object'
    | 'objects'
    | 'elements'
    | 'options';
  readonly required?: boolean;
  /** What the field holds: the JSON Schema's description and the end of "is missing: ...". */
  readonly description: string;
  readonly enum?: readonly string[];
  readonly fields?: readonly FieldDecl[];
  /** Also accepted: null (e.g. a comment that is removed). */
  readonly nullable?: boolean;
}

/** The body's keys, checked against the declaration (SpecError naming an unknown one). */
export function checkKeys(field: string, body: Record<string, unknown>, decls: readonly FieldDecl[]): void {
  expectKeys(
    field,
    body,
    decls.map((d) => d.name),
  );
}

/** A declared field's value; a required one that is absent (or null, unless nullable) is a SpecError "is missing: <description>". */
export function fieldValue(
  field: string,
  body: Record<string, unknown>,
  decls: readonly FieldDecl[],
  name: string,
): unknown {
  const decl = decls.find((d) => d.name === name);
  if (!decl) throw new Error(`${name} is not a declared field`);
  const value = body[name];
  if (decl.required && (value === undefined || (value === null && !decl.nullable)))
    throw new SpecError(`${field}.${name}`, `is missing: ${decl.description}`);
  return value;
}

/** The fields' reader for one body: `need('column')` / `get('into')`, with the keys checked first. */
export function readFields(
  field: string,
  body: Record<string, unknown>,
  decls: readonly FieldDecl[],
): (name: string) => unknown {
  checkKeys(field, body, decls);
  return (name) => fieldValue(field, body, decls, name);
}

type JsonSchema = Record<string, unknown>;

function typeSchema(d: FieldDecl): JsonSchema {
  switch (d.type) {
    case 'string':
      return d.enum ? { type: 'string', enum: [...d.enum] } : { type: 'string', minLength: 1 };
    case 'scalar':
      return { type: ['string', 'number', 'boolean'] };
    case 'boolean':
      return { type: 'boolean' };
    case 'integer':
      return { type: 'integer' };
    case 'strings':
      return { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } };
    case 'statements':
      return {
        oneOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        ],
      };
    case 'map':
      return { type: 'object', additionalProperties: { type: 'string', minLength: 1 } };
    case 'object':
      return objectSchema(d.fields ?? []);
    case 'objects':
      return { type: 'array', minItems: 1, items: objectSchema(d.fields ?? []) };
    case 'elements':
      return {
        type: 'array',
        minItems: 1,
        items: {
          oneOf: [
            { type: 'string', minLength: 1 },
            objectSchema([
              { name: 'column', type: 'string', description: 'a column (or give expression)' },
              { name: 'expression', type: 'string', description: 'an index expression (or give column)' },
              { name: 'opclass', type: 'string', description: "its operator class, when not the type's default" },
            ]),
          ],
        },
      };
    case 'options':
      return { type: 'object', minProperties: 1, additionalProperties: { type: ['number', 'boolean', 'string'] } };
  }
}

/** The JSON Schema of a mapping with these fields (no other keys). */
export function objectSchema(decls: readonly FieldDecl[], description?: string): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const d of decls) {
    const t = typeSchema(d);
    properties[d.name] = { description: d.description, ...(d.nullable ? { anyOf: [t, { type: 'null' }] } : t) };
  }
  const required = decls.filter((d) => d.required).map((d) => d.name);
  return {
    type: 'object',
    ...(description ? { description } : {}),
    additionalProperties: false,
    ...(required.length ? { required } : {}),
    properties,
  };
}
