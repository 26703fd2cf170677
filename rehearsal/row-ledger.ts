import { AppVersion } from '../phases/deploy/stages';
import { Entry, Values } from './round-trip';

/** What one write left on one operation's columns, as its writer sent it or as the spec derives it. */
export interface MappingWrite {
  /** The old side: exactly what the writer sent (v1, v2), or down(new) (v3). */
  readonly old: Values;
  /** The new side: exactly what the writer sent (v2, v3), or up(old) (v1); undefined when unknown. */
  readonly new?: Values;
  readonly oldExact: boolean;
  readonly newExact: boolean;
  /** The pool entry the values came from. */
  readonly entry?: Entry;
  /**
   * An INSERT's explicit NULLs in old columns: a trigger cannot tell them from columns left out, so
   * the row may hold these values (`down` of the new side) instead. The leniency belongs to the row's
   * state, not to one write: a later write that leaves the old side alone carries it on unchanged.
   */
  readonly nullMayBe?: Values;
}

export type RowOp = 'seed' | 'insert' | 'update' | 'repeat' | 'multi' | 'delete';

/** One acknowledged write of a row (or its deletion). */
export interface RowWrite {
  readonly seq: number;
  /** The row's primary key as a JSON array of text. */
  readonly key: string;
  readonly version: AppVersion;
  readonly op: RowOp;
  readonly stage: string;
  readonly deleted: boolean;
  /** One per operation of the spec, in order. */
  readonly mappings: readonly MappingWrite[];
  /** The columns no operation touches, as the write left them (its RETURNING). */
  readonly untouched: Values;
}

export interface RowFailure {
  readonly stage: string;
  readonly version: AppVersion;
  readonly op: RowOp | 'read';
  readonly id?: string;
  readonly message: string;
}

const SAMPLE = 10;

/**
 * Every acknowledged write by row, and the writes that failed. A write the schema itself refused
 * (a CHECK, a unique index, a NOT NULL the writer broke) is counted apart and changes nothing; a
 * write that failed for any other reason leaves its rows unknown (they are left out of the checks;
 * the failure fails the rehearsal).
 */
export class RowLedger {
  private readonly latest = new Map<string, RowWrite>();
  private readonly unknown = new Set<string>();
  private nextSeq = 0;
  acknowledged = 0;
  failed = 0;
  rejected = 0;
  readonly failureSamples: RowFailure[] = [];
  readonly rejectedSamples: RowFailure[] = [];
  /** Every acknowledged write by a new-side writer (v2, v3) whose value does not survive a rollback. */
  readonly lostOnRollback: RowWrite[] = [];

  record(write: Omit<RowWrite, 'seq'>): RowWrite {
    const entry = { ...write, seq: this.nextSeq++ };
    this.latest.set(write.key, entry);
    this.unknown.delete(write.key);
    this.acknowledged++;
    // Lost: the write's new side is the value whose round trip fails (a repeat writes the row's current
    // value, which the pool entry it carries need not describe).
    const isEntryValue = (m: RowWrite['mappings'][number]) =>
      m.new !== undefined && Object.keys(m.entry!.new).every((c) => (m.new![c] ?? null) === (m.entry!.new[c] ?? null));
    if (
      (write.version === 'v2' || write.version === 'v3') &&
      write.mappings.some((m) => m.newExact && m.entry && !m.entry.roundTrips && isEntryValue(m))
    )
      this.lostOnRollback.push(entry);
    return entry;
  }

  fail(failure: RowFailure, keys: readonly string[]): void {
    this.failed++;
    for (const k of keys) this.unknown.add(k);
    if (this.failureSamples.length < SAMPLE) this.failureSamples.push(failure);
  }

  reject(failure: RowFailure): void {
    this.rejected++;
    if (this.rejectedSamples.length < SAMPLE) this.rejectedSamples.push(failure);
  }

  latestFor(key: string): RowWrite | undefined {
    return this.unknown.has(key) ? undefined : this.latest.get(key);
  }

  latestWrites(): RowWrite[] {
    return [...this.latest.values()].filter((w) => !this.unknown.has(w.key));
  }
}
