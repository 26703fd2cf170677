import * as fs from 'fs';
import { performance } from 'perf_hooks';
import { Pool } from 'pg';
import { Queryable } from '../app/customer-store';
import { createStore } from '../app/versions';
import { britishNames } from '../rehearsal/british-names';
import { TrafficGenerator } from '../rehearsal/traffic';
import { WriteLedger } from '../rehearsal/write-ledger';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Every id of a bench table loaded with `rows` rows (ids are 1..rows), or an even sample of them. */
export function tableIds(rows: number, max = 100000): string[] {
  const step = Math.max(1, Math.floor(rows / max));
  const ids: string[] = [];
  for (let id = 1; id <= rows; id += step) ids.push(String(id));
  return ids;
}

/**
 * The demo app's v1 data layer writing as fast as `workers` clients can (30% creates, 70%
 * renames of single rows) for `seconds`: the app's view of what the sync trigger costs.
 */
export async function v1WriteThroughput(
  url: string,
  rows: number,
  seconds: number,
  workers: number,
): Promise<{ writes: number; seconds: number; writesPerSecond: number }> {
  const pool = new Pool({ connectionString: url, max: workers + 1 });
  try {
    const traffic = new TrafficGenerator({
      stores: { v1: createStore('v1', pool) },
      ledger: new WriteLedger(),
      names: britishNames(42),
      ids: tableIds(rows),
      workers,
      opsPerSecond: 0,
      mix: { create: 30, rename: 70, read: 0 },
    });
    const started = performance.now();
    traffic.start('throughput', { v1: 100 });
    await sleep(seconds * 1000);
    const stats = await traffic.stop();
    const elapsed = (performance.now() - started) / 1000;
    if (stats.failedWrites) throw new Error(`${stats.failedWrites} writes failed while measuring throughput`);
    return { writes: stats.writes, seconds: elapsed, writesPerSecond: stats.writes / elapsed };
  } finally {
    await pool.end();
  }
}

/**
 * The same single-row renames inside the server (one PL/pgSQL loop, no network or client): the
 * trigger's raw cost, without the round trips that dominate an app's write.
 */
export async function serverLoopWritesPerSecond(db: Queryable, rows: number, writes: number): Promise<number> {
  const started = performance.now();
  await db.query(
    `DO $bench$ BEGIN
       FOR i IN 1..${Math.floor(writes)} LOOP
         UPDATE customers SET full_name = 'Loop Writer ' || i WHERE id = 1 + (i * 7919) % ${Math.floor(rows)};
       END LOOP;
     END $bench$`,
  );
  return writes / ((performance.now() - started) / 1000);
}

/** CPU time the backend has run, ns, from /proc (the bench's server is local), or null where it cannot be read. */
function backendCpuNs(pid: number): bigint | null {
  try {
    return BigInt(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

/**
 * The server loop above, also by the CPU time its backend ran (writes per CPU second): on a shared,
 * loaded machine the wall time counts other processes' turns on the CPU, the backend's own CPU
 * time much less so. `cpuPerSecond` is null where /proc cannot be read.
 */
export async function serverLoopRates(
  db: Queryable,
  rows: number,
  writes: number,
): Promise<{ wallPerSecond: number; cpuPerSecond: number | null }> {
  const pid = Number((await db.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  const before = backendCpuNs(pid);
  const wallPerSecond = await serverLoopWritesPerSecond(db, rows, writes);
  const after = backendCpuNs(pid);
  return {
    wallPerSecond,
    cpuPerSecond: before === null || after === null ? null : writes / (Number(after - before) / 1e9),
  };
}
