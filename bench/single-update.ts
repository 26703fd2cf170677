import { performance } from 'perf_hooks';
import { Queryable } from '../app/customer-store';
import { quoteIdent } from '../phases/sql/identifiers';
import { DemoShape } from '../rehearsal/demo-shape';

/**
 * The physical limit the backfill is measured against: the new columns added and filled by ONE
 * UPDATE of every row, with the spec's own up expressions, in one transaction (what a
 * maintenance-window migration would do, locking the whole table for its duration).
 */
export async function singleUpdate(
  db: Queryable,
  shape: DemoShape,
): Promise<{ rows: number; seconds: number; rowsPerSecond: number }> {
  const [first, last] = shape.newColumns;
  await db.query(
    `ALTER TABLE customers ADD COLUMN ${quoteIdent(first.name)} text, ADD COLUMN ${quoteIdent(last.name)} text`,
  );
  await db.query('CHECKPOINT');
  const started = performance.now();
  const r = await db.query(
    `UPDATE customers SET ${quoteIdent(first.name)} = (${first.up}), ${quoteIdent(last.name)} = (${last.up})`,
  );
  const seconds = (performance.now() - started) / 1000;
  const rows = r.rowCount ?? 0;
  return { rows, seconds, rowsPerSecond: rows / seconds };
}
