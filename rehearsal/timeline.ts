import { performance } from 'perf_hooks';
import { ProgressEvent } from '../executor/types';
import { PhaseStats, Weights } from './phased-traffic';

/** What the HTML report draws: times in ms since the traffic started. */
export interface Timeline {
  readonly phases: {
    readonly stage: string;
    readonly weights: Weights;
    readonly startMs: number;
    readonly endMs: number;
    readonly writes: number;
    readonly failedWrites: number;
  }[];
  /** [time, latency] of every acknowledged write. */
  readonly writes: readonly (readonly [number, number])[];
  /** [time, rows done, rows to do] of each backfill progress event. */
  readonly backfill: readonly (readonly [number, number, number])[];
  readonly lockWaits: readonly { readonly t: number; readonly message: string }[];
  readonly lockTimeoutMs: number;
}

/** Collects the executor's progress with the time it came, to lay it over the traffic's phases. */
export class TimelineRecorder {
  private readonly backfill: [number, number, number][] = [];
  private readonly lockWaits: { t: number; message: string }[] = [];

  executor(event: ProgressEvent): void {
    const t = performance.now();
    if (event.kind === 'backfill') this.backfill.push([t, event.done ?? 0, event.total ?? 0]);
    else if (event.kind === 'lock_wait') this.lockWaits.push({ t, message: event.message });
  }

  build(phases: readonly PhaseStats[], lockTimeoutMs: number): Timeline {
    const own = phases.filter((p) => Object.values(p.weights).some((w) => (w ?? 0) > 0));
    const t0 = phases.length ? phases[0].startedAt : 0;
    const at = (t: number) => Math.round((t - t0) * 10) / 10;
    return {
      phases: own.map((p) => ({
        stage: p.stage,
        weights: p.weights,
        startMs: at(p.startedAt),
        endMs: at(p.endedAt ?? performance.now()),
        writes: p.writes,
        failedWrites: p.failedWrites,
      })),
      writes: own.flatMap((p) => p.writeAt.map((t, i) => [at(t), Math.round(p.writeMs[i] * 100) / 100] as const)),
      backfill: this.backfill.map(([t, d, n]) => [at(t), d, n] as const),
      lockWaits: this.lockWaits.map((l) => ({ t: at(l.t), message: l.message })),
      lockTimeoutMs,
    };
  }
}
