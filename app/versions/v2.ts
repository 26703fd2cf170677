import { Queryable } from '../customer-store';
import { joinName, splitName } from '../split-name';
import { ColumnStore } from './column-store';

/**
 * v2, the dual-writer: reads first_name/last_name and writes all three columns, so v1 (still
 * serving the rest of the canary, or back after a rollback) keeps seeing the name in full_name.
 */
export function v2Store(db: Queryable): ColumnStore {
  return new ColumnStore(db, {
    version: 'v2',
    reads: ['first_name', 'last_name'],
    write: (name) => {
      const { first, last } = splitName(name);
      return { full_name: joinName(first, last), first_name: first, last_name: last };
    },
    display: (row) => joinName(row.first_name ?? null, row.last_name ?? null),
  });
}
