import { Queryable } from '../customer-store';
import { ColumnStore } from './column-store';

/** v1, the baseline app: reads and writes full_name only, and knows nothing of the new columns. */
export function v1Store(db: Queryable): ColumnStore {
  return new ColumnStore(db, {
    version: 'v1',
    reads: ['full_name'],
    write: (name) => ({ full_name: name }),
    display: (row) => row.full_name ?? '',
  });
}
