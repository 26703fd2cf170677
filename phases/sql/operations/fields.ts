import { CatalogError, SpecError } from '../../errors';
import { checkExistingName } from '../identifiers';
import { TableColumn, TableInfo } from './operation';

/** Field readers shared by the operation files: each throws SpecError naming the field. */

export function expectObject(field: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new SpecError(field, 'must be a mapping');
  return value as Record<string, unknown>;
}

export function expectKeys(field: string, body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key))
      throw new SpecError(`${field}.${key}`, `is not a known field (expected one of: ${allowed.join(', ')})`);
  }
}

export function required<T>(field: string, value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new SpecError(field, `is missing: ${what}`);
  return value;
}

export function expectBoolean(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new SpecError(field, 'must be true or false');
  return value;
}

/** The live column, or a CatalogError naming it. */
export function existingColumn(table: TableInfo, field: string, name: string): TableColumn {
  checkExistingName(field, name);
  const column = table.columns.find((c) => c.name === name);
  if (!column) {
    throw new CatalogError(field, name, `column "${name}" does not exist in table ${table.schema}.${table.name}`);
  }
  return column;
}

/** A new column name must not clash with the live table. */
export function absentColumn(table: TableInfo, field: string, name: string): void {
  if (table.columns.some((c) => c.name === name)) {
    throw new CatalogError(field, name, `column "${name}" already exists in table ${table.schema}.${table.name}`);
  }
}
