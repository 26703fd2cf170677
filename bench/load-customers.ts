import { Queryable } from '../app/customer-store';
import { quoteLiteral } from '../phases/sql/identifiers';
import { customersTableSql } from '../rehearsal/demo-database';
import { FIRST_NAMES, LAST_NAMES } from '../rehearsal/british-names';

function sqlArray(values: readonly string[]): string {
  return `ARRAY[${values.map(quoteLiteral).join(', ')}]`;
}

/**
 * The talk's table with `rows` customers, generated inside PostgreSQL (fast at 10M rows): British
 * names, one in ten with a middle name, deterministic for a row number. VACUUM ANALYZE after, so
 * every measurement starts from the same settled table.
 */
export async function loadCustomers(db: Queryable, rows: number): Promise<void> {
  const first = sqlArray(FIRST_NAMES);
  const last = sqlArray(LAST_NAMES);
  const pickFirst = (k: string) => `(${first})[1 + ((${k}) % ${FIRST_NAMES.length})]`;
  const pickLast = `(${last})[1 + ((g::bigint * 104729 / 7) % ${LAST_NAMES.length})]`;
  await db.query(customersTableSql());
  await db.query(
    `INSERT INTO customers (full_name, email)
     SELECT CASE WHEN g % 10 = 0
                 THEN ${pickFirst('g::bigint * 7919')} || ' ' || ${pickFirst('g / 10')} || ' ' || ${pickLast}
                 ELSE ${pickFirst('g::bigint * 7919')} || ' ' || ${pickLast} END,
            'customer' || g || '@example.co.uk'
     FROM generate_series(1, ${Math.floor(rows)}) g`,
  );
  await db.query('VACUUM ANALYZE customers');
}
