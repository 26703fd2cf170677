import { performance } from 'perf_hooks';
import { CustomerStore } from '../app/customer-store';
import { AppVersion } from '../phases/deploy/stages';
import { NameSource } from './british-names';
import { Comparison } from './consistency-check';
import { PhasedTraffic, PhaseStats } from './phased-traffic';
import { WriteLedger } from './write-ledger';

export { PAUSED, PhasedTraffic } from './phased-traffic';
export type { PhaseStats, Weights } from './phased-traffic';

export interface TrafficArgs {
  /** The data layer of each version that may get traffic. */
  readonly stores: Readonly<Partial<Record<AppVersion, CustomerStore>>>;
  readonly ledger: WriteLedger;
  readonly names: NameSource;
  /** Customers that exist when traffic starts; shared out among the workers. */
  readonly ids: readonly string[];
  /** Concurrent clients (default 8). Each owns its customers, so its reads must see its own last write. */
  readonly workers?: number;
  /** Target requests per second across all workers (default 400); 0 means as fast as they go. */
  readonly opsPerSecond?: number;
  /** Share of creates, renames and reads (default 20/50/30). */
  readonly mix?: { readonly create: number; readonly rename: number; readonly read: number };
  /** Writes slower than this are counted as having waited on a lock (the executor's lock_timeout). */
  readonly slowWriteMs?: number;
  readonly random?: () => number;
}

/**
 * Simulated app traffic: workers create, rename and read customers through the demo app's own
 * data layer, routed to app versions by canary weights. Every acknowledged write goes into the
 * ledger with exactly what its writer sent; every read is kept as a comparison for the checker.
 */
export class TrafficGenerator extends PhasedTraffic {
  private readonly owned: string[][];
  private readonly observations: Comparison[] = [];

  constructor(private readonly args: TrafficArgs) {
    super(args);
    this.owned = Array.from({ length: this.workers }, () => []);
    args.ids.forEach((id, i) => this.owned[i % this.workers].push(id));
  }

  /** The reads since the last call, each paired with the write its reader had to see. */
  takeReads(): Comparison[] {
    return this.observations.splice(0, this.observations.length);
  }

  protected async request(w: number, stats: PhaseStats): Promise<void> {
    const version = this.pickVersion(stats.weights);
    const store = this.args.stores[version];
    if (!store) throw new Error(`traffic for ${version}, but no ${version} data layer was given`);
    const counts = (stats.byVersion[version] ??= { writes: 0, reads: 0 });
    const mix = this.args.mix ?? { create: 20, rename: 50, read: 30 };
    const owned = this.owned[w];
    let r = this.random() * (mix.create + mix.rename + mix.read);
    const op = owned.length === 0 || (r -= mix.create) < 0 ? 'create' : (r -= mix.rename) < 0 ? 'rename' : 'read';
    const id = op === 'create' ? undefined : owned[Math.floor(this.random() * owned.length)];
    if (op === 'read') {
      const expected = this.args.ledger.latestFor(id as string);
      try {
        const customer = await store.get(id as string);
        stats.reads++;
        counts.reads++;
        if (expected) {
          const old = version === 'v1';
          this.observations.push({ write: expected, actual: customer ? customer.columns : null, old, new: !old });
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
      this.args.ledger.fail({ stage: stats.stage, version, op, id, message: err instanceof Error ? err.message : String(err) });
    }
  }
}
