import { objectSchema, OPERATION_KINDS, operationOf } from './operations';
import { MAX_SPEC_NAME } from './spec';

/** Where the generated schema is committed (relative to the repository) and the id it carries. */
export const SPEC_SCHEMA_PATH = 'schema/tandem-spec.schema.json';

/**
 * The JSON Schema (draft 2020-12) of a spec file, generated from each operation's declared fields
 * (the same declaration the parser reads): editors validate and complete YAML specs with it. It
 * checks shapes only; `tandem validate` checks the rest (names, expressions, the live table).
 */
export function specJsonSchema(): Record<string, unknown> {
  const operations = OPERATION_KINDS.map((kind) => {
    const op = operationOf(kind);
    return {
      type: 'object',
      title: kind,
      description: op.summary,
      additionalProperties: false,
      required: [kind],
      properties: { [kind]: objectSchema(op.fields, op.summary) },
    };
  });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://tandem.invalid/${SPEC_SCHEMA_PATH}`,
    title: 'Tandem migration spec',
    description:
      'One schema refactoring of one table: its name, the table, and the operations, each a mapping with exactly one operation key. A spec of object operations only may omit the table (see docs/spec-table.md).',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'operations'],
    properties: {
      name: {
        description: `the migration's name: lowercase letters, digits and single dashes, at most ${MAX_SPEC_NAME} characters, unique per database`,
        type: 'string',
        pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$',
        maxLength: MAX_SPEC_NAME,
      },
      table: {
        description: `the table the migration changes, \`table\` or \`schema.table\`; required when an operation changes columns or works on the spec's table (a spec of ${OPERATION_KINDS.filter((k) => operationOf(k).ownTable).join(', ')} only may omit it)`,
        type: 'string',
        minLength: 1,
      },
      schema: {
        description: 'for a spec that names no table: the schema it works in (default: the first of the search_path)',
        type: 'string',
        minLength: 1,
      },
      description: { description: 'what the migration is for (free text)', type: 'string' },
      operations: { description: 'the operations, in order', type: 'array', minItems: 1, items: { oneOf: operations } },
    },
  };
}

/** The schema as the committed file holds it. */
export function specJsonSchemaText(): string {
  return `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
}
