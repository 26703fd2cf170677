import { performance } from 'perf_hooks';
import { Pool } from 'pg';
import { CustomerColumns, CustomerStore } from '../app/customer-store';
import { createStore } from '../app/versions';
import { AppVersion } from '../phases/deploy/stages';
import { NameSource } from './british-names';
import { PhasedTraffic, PhaseStats } from './phased-traffic';
import { AcknowledgedWrite, CustomerLedger } from './write-ledger';

export { PAUSED, PhasedTraffic } from './phased-traffic';
export type { PhaseStats, Weights } from './phased-traffic';

/** A read by `reader`, paired with the write (as its ledger keeps it) the reader had to see. */
export interface Comparison<W = AcknowledgedWrite> {
  readonly write: W;
  readonly actual: CustomerColumns | null;
  /** Compare full_name (the old side: v1 reads it). */
  readonly old: boolean;
  /** Compare first_name and last_name (the new side: v2 and v3 read them). */
  readonly new: boolean;
  readonly reader: AppVersion;
}

export interface TrafficArgs<W = AcknowledgedWrite> {
  /** The data layer of each version that may get traffic. */
  readonly stores: Readonly<Partial<Record<AppVersion, CustomerStore>>>;
  readonly ledger: CustomerLedger<W>;
  readonly names: NameSource;
  /** Customers that exist when traffic starts; shared out among the workers. */
  readonly ids: readonly string[];
  /** Concurrent clients (default 8). Each owns its customers, so its reads must see its own last write. */
  readonly workers?: number;
  /** Target requests per second across all workers (default 400); 0 means as fast as they go. */
  readonly opsPerSecond?: number;
  /** Share of creates, renames, reads and multi-row transactions (default 20/50/30/0; 20/40/30/10 with `pools`). */
  readonly mix?: { readonly create: number; readonly rename: number; readonly read: number; readonly multi?: number };
  /** Each version's connection pool, for multi-row transactions (renames of two rows, the higher id first). */
  readonly pools?: Readonly<Partial<Record<AppVersion, Pool>>>;
  /** Writes slower than this are counted as having waited on a lock (the executor's lock_timeout). */
  readonly slowWriteMs?: number;
  readonly random?: () => number;
}

/**
 * Simulated app traffic: workers create, rename and read customers through the demo app's own
 * data layer, routed to app versions by canary weights. Every acknowledged write goes into the
 * ledger with exactly what its writer sent; every read is kept as a comparison for the checker.
 */
export class TrafficGenerator<W = AcknowledgedWrite> extends PhasedTraffic {
  private readonly owned: string[][];
  private readonly observations: Comparison<W>[] = [];

  constructor(private readonly args: TrafficArgs<W>) {
    super(args);
    this.owned = Array.from({ length: this.workers }, () => []);
    args.ids.forEach((id, i) => this.owned[i % this.workers].push(id));
  }

  /** The reads since the last call, each paired with the write its reader had to see. */
  takeReads(): Comparison<W>[] {
    return this.observations.splice(0, this.observations.length);
  }

  protected async request(w: number, stats: PhaseStats): Promise<void> {
    const version = this.pickVersion(stats.weights);
    const store = this.args.stores[version];
    if (!store) throw new Error(`traffic for ${version}, but no ${version} data layer was given`);
    const counts = (stats.byVersion[version] ??= { writes: 0, reads: 0 });
    const mix =
      this.args.mix ??
      (this.args.pools ? { create: 20, rename: 40, read: 30, multi: 10 } : { create: 20, rename: 50, read: 30 });
    const owned = this.owned[w];
    const r = this.random() * (mix.create + mix.rename + mix.read + (mix.multi ?? 0));
    const op =
      owned.length === 0 || r < mix.create
        ? 'create'
        : r < mix.create + mix.rename
          ? 'rename'
          : r < mix.create + mix.rename + mix.read
            ? 'read'
            : 'multi';
    if (op === 'multi') return this.multiRename(version, owned, stats, counts);
    const id = op === 'create' ? undefined : owned[Math.floor(this.random() * owned.length)];
    if (op === 'read') {
      const expected = this.args.ledger.latestFor(id as string);
      try {
        const customer = await store.get(id as string);
        stats.reads++;
        counts.reads++;
        if (expected) {
          const old = version === 'v1';
          this.observations.push({
            write: expected,
            actual: customer ? customer.columns : null,
            old,
            new: !old,
            reader: version,
          });
        }
      } catch {
        stats.failedReads++;
      }
      return;
    }
    const name = this.args.names();
    const started = performance.now();
    try {
      const customer = op === 'create' ? await store.create(name) : await store.rename(id as string, name);
      const ms = performance.now() - started;
      if (!customer) throw new Error(`customer ${id} no longer exists`);
      this.args.ledger.record({ id: customer.id, version, op, columns: store.columnsFor(name), stage: stats.stage });
      if (op === 'create') owned.push(customer.id);
      stats.writes++;
      counts.writes++;
      stats.writeMs.push(ms);
      stats.writeAt.push(started + ms);
      if (ms > (this.args.slowWriteMs ?? Infinity)) stats.slowWrites++;
    } catch (err) {
      stats.failedWrites++;
      this.args.ledger.fail({
        stage: stats.stage,
        version,
        op,
        id,
        message: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /**
   * One transaction that renames two or three of the worker's customers, the higher id first: the
   * order that makes an app transaction and a backfill batch (which locks rows in key order) deadlock.
   */
  private async multiRename(
    version: AppVersion,
    owned: string[],
    stats: PhaseStats,
    counts: { writes: number },
  ): Promise<void> {
    const pool = this.args.pools?.[version];
    if (!pool || owned.length < 2) return;
    const i = Math.floor(this.random() * (owned.length - 1));
    const j = Math.min(owned.length - 1, i + 1 + Math.floor(this.random() * 3));
    const ids = [owned[j], ...(j - i > 1 && this.random() < 0.5 ? [owned[i + 1]] : []), owned[i]];
    const names = ids.map(() => this.args.names());
    const started = performance.now();
    const client = await pool.connect().catch((err: Error) => err);
    if (client instanceof Error) {
      stats.failedWrites++;
      this.args.ledger.fail(
        { stage: stats.stage, version, op: 'rename', id: ids[0], message: client.message },
        ids.slice(1),
      );
      return;
    }
    try {
      const store = createStore(version, client);
      await client.query('BEGIN');
      for (const [k, id] of ids.entries()) {
        if (!(await store.rename(id, names[k]))) throw new Error(`customer ${id} no longer exists`);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      stats.failedWrites++;
      this.args.ledger.fail(
        {
          stage: stats.stage,
          version,
          op: 'rename',
          id: ids[0],
          message: err instanceof Error ? err.message : String(err),
        },
        ids.slice(1),
      );
      return;
    }
    client.release();
    const ms = performance.now() - started;
    const store = this.args.stores[version]!;
    ids.forEach((id, k) =>
      this.args.ledger.record({ id, version, op: 'rename', columns: store.columnsFor(names[k]), stage: stats.stage }),
    );
    stats.writes += ids.length;
    counts.writes += ids.length;
    stats.writeMs.push(ms);
    stats.writeAt.push(started + ms);
    if (ms > (this.args.slowWriteMs ?? Infinity)) stats.slowWrites++;
  }
}
