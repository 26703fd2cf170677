import { performance } from 'perf_hooks';
import { CustomerStore } from '../app/customer-store';
import { AppVersion } from '../phases/deploy/stages';
import { NameSource } from './british-names';
import { Comparison } from './consistency-check';
import { WriteLedger } from './write-ledger';

/** Percent of requests each app version serves (Argo Rollouts' canary weight); they need not sum to 100. */
export type Weights = Readonly<Partial<Record<AppVersion, number>>>;

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

/** What happened during one phase (one stage at one set of weights). */
export interface PhaseStats {
  readonly stage: string;
  readonly weights: Weights;
  writes: number;
  reads: number;
  failedWrites: number;
  failedReads: number;
  /** Acknowledged write latencies, ms. */
  readonly writeMs: number[];
  readonly byVersion: Partial<Record<AppVersion, { writes: number; reads: number }>>;
  slowWrites: number;
}

interface Phase {
  readonly generation: number;
  readonly stats: PhaseStats;
}

/** Weights with no version above 0 pause the traffic (used while the rehearsal reads the table). */
export const PAUSED: Weights = {};

function hasTraffic(weights: Weights): boolean {
  return Object.values(weights).some((w) => (w ?? 0) > 0);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Simulated app traffic: workers create, rename and read customers through the demo app's own
 * data layer, routed to app versions by canary weights. Every acknowledged write goes into the
 * ledger with exactly what its writer sent; every read is kept as a comparison for the checker.
 */
export class TrafficGenerator {
  readonly phases: PhaseStats[] = [];
  private current: Phase | undefined;
  private readonly owned: string[][];
  private readonly busy: (number | null)[];
  private readonly workers: number;
  private readonly random: () => number;
  private readonly observations: Comparison[] = [];
  private running: Promise<void>[] = [];
  private stopping = false;

  constructor(private readonly args: TrafficArgs) {
    this.workers = args.workers ?? 8;
    this.random = args.random ?? Math.random;
    this.owned = Array.from({ length: this.workers }, () => []);
    args.ids.forEach((id, i) => this.owned[i % this.workers].push(id));
    this.busy = Array.from({ length: this.workers }, () => null);
  }

  /** Start the workers in a first phase. */
  start(stage: string, weights: Weights): void {
    if (this.current) throw new Error('traffic already started');
    this.current = this.newPhase(0, stage, weights);
    this.running = Array.from({ length: this.workers }, (_, w) => this.work(w));
  }

  /**
   * Move to new weights; resolves once no request of the previous phase is still in flight
   * (like a canary step that completes when the old pods are drained). Returns the ended phase.
   */
  async shift(stage: string, weights: Weights): Promise<PhaseStats> {
    const previous = this.requireCurrent();
    this.current = this.newPhase(previous.generation + 1, stage, weights);
    await this.drained(this.current.generation);
    return previous.stats;
  }

  /** Stop every worker after its current request. Returns the last phase. */
  async stop(): Promise<PhaseStats> {
    const last = this.requireCurrent();
    this.stopping = true;
    await Promise.all(this.running);
    return last.stats;
  }

  /** The phase in progress. */
  currentStats(): PhaseStats {
    return this.requireCurrent().stats;
  }

  /** The reads since the last call, each paired with the write its reader had to see. */
  takeReads(): Comparison[] {
    return this.observations.splice(0, this.observations.length);
  }

  private requireCurrent(): Phase {
    if (!this.current) throw new Error('traffic has not started');
    return this.current;
  }

  private newPhase(generation: number, stage: string, weights: Weights): Phase {
    const stats: PhaseStats = { stage, weights, writes: 0, reads: 0, failedWrites: 0, failedReads: 0, writeMs: [], byVersion: {}, slowWrites: 0 };
    this.phases.push(stats);
    return { generation, stats };
  }

  private async drained(generation: number): Promise<void> {
    while (this.busy.some((g) => g !== null && g < generation)) await sleep(2);
  }

  private async work(w: number): Promise<void> {
    const rate = this.args.opsPerSecond ?? 400;
    const interval = rate > 0 ? (1000 * this.workers) / rate : 0;
    // Spread the workers' first requests over one interval.
    await sleep(interval * (w / this.workers));
    while (!this.stopping) {
      const phase = this.requireCurrent();
      if (!hasTraffic(phase.stats.weights)) {
        await sleep(5);
        continue;
      }
      const started = performance.now();
      this.busy[w] = phase.generation;
      try {
        await this.request(w, phase.stats);
      } finally {
        this.busy[w] = null;
      }
      const rest = interval - (performance.now() - started);
      if (rest > 0) await sleep(rest);
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private pickVersion(weights: Weights): AppVersion {
    const entries = Object.entries(weights).filter(([, w]) => (w ?? 0) > 0) as [AppVersion, number][];
    let r = this.random() * entries.reduce((s, [, w]) => s + w, 0);
    for (const [version, weight] of entries) {
      r -= weight;
      if (r < 0) return version;
    }
    return entries[entries.length - 1][0];
  }

  private async request(w: number, stats: PhaseStats): Promise<void> {
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
      if (ms > (this.args.slowWriteMs ?? Infinity)) stats.slowWrites++;
    } catch (err) {
      stats.failedWrites++;
      this.args.ledger.fail({ stage: stats.stage, version, op, id, message: err instanceof Error ? err.message : String(err) });
    }
  }
}
