import { Pool } from 'pg';
import { createStore } from '../app/versions';
import { britishNames } from '../rehearsal/british-names';
import { LatencySummary, summarize } from '../rehearsal/latency-stats';
import { TrafficGenerator } from '../rehearsal/traffic';
import { WriteLedger } from '../rehearsal/write-ledger';
import { ChildBackfill, runBackfillProcess } from './backfill-child';
import { tableIds } from './write-throughput';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface UnderTrafficArgs {
  /** The app traffic's connection. */
  readonly url: string;
  /** The backfill process's connection. */
  readonly backfillUrl: string;
  readonly specPath: string;
  readonly rows: number;
  /** Traffic before the backfill starts, on the expanded table, s. */
  readonly idleSeconds: number;
  /** v1 writes per second (30% creates, 70% renames of random existing rows). */
  readonly writesPerSecond: number;
  readonly workers: number;
  /** Writes slower than this count as having waited on a lock (the executor's lock_timeout). */
  readonly slowWriteMs: number;
  /** More `tandem backfill` arguments (e.g. --chunk-time). */
  readonly extraArgs?: string[];
}

export interface UnderTrafficResult {
  readonly idle: LatencySummary;
  readonly during: LatencySummary & { readonly slowWrites: number; readonly failedWrites: number };
  readonly backfill: ChildBackfill;
}

/**
 * App write latency at a steady v1 load, first idle (expanded, no backfill), then while
 * `tandem backfill` runs as its own process on the same table.
 */
export async function backfillUnderTraffic(args: UnderTrafficArgs): Promise<UnderTrafficResult> {
  const pool = new Pool({ connectionString: args.url, max: args.workers + 1 });
  try {
    const traffic = new TrafficGenerator({
      stores: { v1: createStore('v1', pool) },
      ledger: new WriteLedger(),
      names: britishNames(7),
      ids: tableIds(args.rows),
      workers: args.workers,
      opsPerSecond: args.writesPerSecond,
      mix: { create: 30, rename: 70, read: 0 },
      slowWriteMs: args.slowWriteMs,
    });
    traffic.start('idle', { v1: 100 });
    await sleep(args.idleSeconds * 1000);
    const idle = await traffic.shift('backfill', { v1: 100 });
    const backfill = await runBackfillProcess(args.specPath, args.backfillUrl, args.extraArgs);
    const during = await traffic.stop();
    return {
      idle: summarize(idle.writeMs),
      during: { ...summarize(during.writeMs), slowWrites: during.slowWrites, failedWrites: during.failedWrites },
      backfill,
    };
  } finally {
    await pool.end();
  }
}
