import { Queryable } from '../customer-store';
import { joinName, splitName } from '../split-name';
import { ColumnStore } from './column-store';

/** v3, the clean app: reads and writes first_name/last_name only; full_name can then be dropped. */
export function v3Store(db: Queryable): ColumnStore {
  return new ColumnStore(db, {
    version: 'v3',
    reads: ['first_name', 'last_name'],
    write: (name) => {
      const { first, last } = splitName(name);
      return { first_name: first, last_name: last };
    },
    display: (row) => joinName(row.first_name ?? null, row.last_name ?? null),
  });
}
