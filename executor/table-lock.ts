import { Client } from 'pg';
import { ExecutorBusyError } from './errors';

/** Advisory lock keys: (classid 'tand', objid = the table's oid). One executor per table at a time. */
const LOCK_CLASS = 1952542308;

function objid(tableOid: number): number {
  // pg_try_advisory_lock(int4, int4): fold the unsigned oid into int4.
  return tableOid > 0x7fffffff ? tableOid - 0x100000000 : tableOid;
}

/** Take the table's session-level advisory lock (released on disconnect, even after a crash), or refuse. */
export async function lockTable(client: Client, tableOid: number, label: string): Promise<() => Promise<void>> {
  const r = await client.query(`SELECT pg_try_advisory_lock($1::int4, $2::int4) AS ok`, [LOCK_CLASS, objid(tableOid)]);
  if (!r.rows[0].ok) {
    const holder = await client.query(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 2 AND granted LIMIT 1`,
      [LOCK_CLASS, tableOid],
    );
    throw new ExecutorBusyError(label, holder.rows[0]?.pid ?? null);
  }
  return async () => {
    await client.query(`SELECT pg_advisory_unlock($1::int4, $2::int4)`, [LOCK_CLASS, objid(tableOid)]);
  };
}
