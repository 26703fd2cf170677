import { performance } from 'perf_hooks';
import { AppVersion } from '../phases/deploy/stages';

/** Percent of requests each app version serves (Argo Rollouts' canary weight); they need not sum to 100. */
export type Weights = Readonly<Partial<Record<AppVersion, number>>>;

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
  /** When each of those writes was acknowledged (performance.now(), ms), for the report's timeline. */
  readonly writeAt: number[];
  /** When the phase began and ended (performance.now(), ms). */
  readonly startedAt: number;
  endedAt?: number;
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

/** The pacing every traffic generator shares. */
export interface PacingArgs {
  /** Concurrent clients (default 8). */
  readonly workers?: number;
  /** Target requests per second across all workers (default 400); 0 means as fast as they go. */
  readonly opsPerSecond?: number;
  readonly random?: () => number;
}

/**
 * Workers that send requests routed to app versions by canary weights, phase by phase: `shift`
 * moves to new weights once the previous phase's requests are drained. Subclasses send the requests.
 */
export abstract class PhasedTraffic {
  readonly phases: PhaseStats[] = [];
  private current: Phase | undefined;
  private readonly busy: (number | null)[];
  protected readonly workers: number;
  protected readonly random: () => number;
  private running: Promise<void>[] = [];
  private stopping = false;

  constructor(private readonly pacing: PacingArgs) {
    this.workers = pacing.workers ?? 8;
    this.random = pacing.random ?? Math.random;
    this.busy = Array.from({ length: this.workers }, () => null);
  }

  /** Send one request as worker `w`, counting it in `stats`. */
  protected abstract request(w: number, stats: PhaseStats): Promise<void>;

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
    previous.stats.endedAt = performance.now();
    this.current = this.newPhase(previous.generation + 1, stage, weights);
    await this.drained(this.current.generation);
    return previous.stats;
  }

  /** Stop every worker after its current request. Returns the last phase. */
  async stop(): Promise<PhaseStats> {
    const last = this.requireCurrent();
    this.stopping = true;
    await Promise.all(this.running);
    last.stats.endedAt ??= performance.now();
    return last.stats;
  }

  /** The phase in progress. */
  currentStats(): PhaseStats {
    return this.requireCurrent().stats;
  }

  private requireCurrent(): Phase {
    if (!this.current) throw new Error('traffic has not started');
    return this.current;
  }

  private newPhase(generation: number, stage: string, weights: Weights): Phase {
    const stats: PhaseStats = {
      stage,
      weights,
      writes: 0,
      reads: 0,
      failedWrites: 0,
      failedReads: 0,
      writeMs: [],
      writeAt: [],
      startedAt: performance.now(),
      byVersion: {},
      slowWrites: 0,
    };
    this.phases.push(stats);
    return { generation, stats };
  }

  private async drained(generation: number): Promise<void> {
    while (this.busy.some((g) => g !== null && g < generation)) await sleep(2);
  }

  private async work(w: number): Promise<void> {
    const rate = this.pacing.opsPerSecond ?? 400;
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

  protected pickVersion(weights: Weights): AppVersion {
    const entries = Object.entries(weights).filter(([, w]) => (w ?? 0) > 0) as [AppVersion, number][];
    let r = this.random() * entries.reduce((s, [, w]) => s + w, 0);
    for (const [version, weight] of entries) {
      r -= weight;
      if (r < 0) return version;
    }
    return entries[entries.length - 1][0];
  }
}
