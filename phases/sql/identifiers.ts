import { createHash } from 'crypto';
import { SpecError } from '../errors';

/** PostgreSQL's NAMEDATALEN - 1: longer names are truncated by the server, so we refuse them. */
export const MAX_IDENTIFIER_BYTES = 63;

/** Names Tandem creates (new columns) follow unquoted-identifier syntax, so nobody needs to quote them. */
const NEW_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A name Tandem derives (a trigger, a function, a constraint): returned as is when it fits in 63
 * bytes, otherwise its first bytes and `_` and a 10-hex-digit hash of the whole name, 63 bytes in
 * all. Deterministic, so every step derives the same name, and never left to the server's silent
 * truncation (two long names that share a prefix stay apart).
 */
export function fitIdentifier(name: string): string {
  if (Buffer.byteLength(name, 'utf8') <= MAX_IDENTIFIER_BYTES) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 10);
  // By code point, not UTF-16 unit: a character outside the BMP is never cut in half.
  const chars = Array.from(name);
  while (Buffer.byteLength(chars.join(''), 'utf8') > MAX_IDENTIFIER_BYTES - hash.length - 1) chars.pop();
  return `${chars.join('')}_${hash}`;
}

/** Always quote: "na""me". */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export function quoteQualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

export function quoteLiteral(value: string): string {
  return "'" + value.replace(/'/g, "''") + "'";
}

export function checkIdentifierLength(field: string, name: string): void {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IDENTIFIER_BYTES) {
    throw new SpecError(
      field,
      `"${name}" is ${bytes} bytes long; PostgreSQL names are at most ${MAX_IDENTIFIER_BYTES} bytes and Tandem refuses rather than truncates`,
    );
  }
}

/** A name that must already exist: any characters are allowed (it is always quoted), but not empty or over-long. */
export function checkExistingName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new SpecError(field, 'must be a non-empty name');
  if (value.includes('\0')) throw new SpecError(field, 'must not contain a NUL character');
  checkIdentifierLength(field, value);
  return value;
}

/** A name Tandem will create: letters, digits and underscores, starting with a letter or underscore. */
export function checkNewName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new SpecError(field, 'must be a non-empty column name');
  checkIdentifierLength(field, value);
  if (!NEW_NAME.test(value)) {
    throw new SpecError(
      field,
      `"${value}" is not a plain column name (letters, digits and underscores, not starting with a digit)`,
    );
  }
  if (value.toLowerCase().startsWith('_tandem'))
    throw new SpecError(field, `"${value}" uses the _tandem prefix, which Tandem reserves`);
  if (/^(new|old|found|tg_\w*)$/i.test(value))
    throw new SpecError(
      field,
      `"${value}" is a name PL/pgSQL triggers reserve (NEW, OLD, FOUND, TG_*), so the sync trigger could not use it`,
    );
  return value;
}

/** `table` or `schema.table`, each part a plain name. */
export function parseTableName(field: string, value: unknown): { schema?: string; table: string } {
  if (typeof value !== 'string' || value.length === 0)
    throw new SpecError(field, 'must name a table, as `table` or `schema.table`');
  const parts = value.split('.');
  if (parts.length > 2)
    throw new SpecError(field, `"${value}" has more than one dot; write it as table or schema.table`);
  for (const part of parts) {
    checkIdentifierLength(field, part);
    if (!NEW_NAME.test(part))
      throw new SpecError(field, `"${value}" is not a plain table name (letters, digits and underscores)`);
  }
  return parts.length === 2 ? { schema: parts[0], table: parts[1] } : { table: parts[0] };
}

/**
 * A column type as written in a spec: `text`, `varchar(20)`, `numeric(10,2)`, `timestamp with time zone`,
 * `text[]`, `myschema.mytype`. The live catalog confirms it exists; this keeps anything else out of DDL.
 */
const TYPE =
  /^(?:[A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*(?: [A-Za-z_][A-Za-z0-9_]*)*(?:\s*\(\s*\d+\s*(?:,\s*\d+\s*)?\))?(?: with(?:out)? time zone)?(?:\[\])*$/;

export function checkType(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim().length === 0)
    throw new SpecError(field, 'must be a PostgreSQL type, e.g. text or varchar(100)');
  const type = value.trim().replace(/\s+/g, ' ');
  if (!TYPE.test(type))
    throw new SpecError(
      field,
      `"${value}" is not a type name Tandem accepts (e.g. text, varchar(100), numeric(10,2), text[])`,
    );
  return type;
}
