import { CustomerColumns } from '../app/customer-store';
import { AppVersion } from '../phases/deploy/stages';

/** One write the database acknowledged, with exactly what its writer sent. */
export interface AcknowledgedWrite {
  /** Order of acknowledgement across the whole run. */
  readonly seq: number;
  readonly id: string;
  readonly version: AppVersion;
  readonly op: 'seed' | 'create' | 'rename';
  readonly columns: CustomerColumns;
  /** The rehearsal stage it happened in. */
  readonly stage: string;
}

export interface FailedWrite {
  readonly stage: string;
  readonly version: AppVersion;
  readonly op: 'create' | 'rename';
  readonly id?: string;
  readonly message: string;
}

/** What the traffic tells a ledger: an acknowledged write, a failed one, and which write a reader must see. */
export interface CustomerLedger<W> {
  record(write: Omit<AcknowledgedWrite, 'seq'>): W;
  /** A failed write (one transaction), of `failure.id` and of the `others` it wrote in the same transaction. */
  fail(failure: FailedWrite, others?: readonly string[]): void;
  /** The write a reader of this customer must see, unless its state is unknown. */
  latestFor(id: string): W | undefined;
}

const SAMPLE = 10;

/**
 * The traffic generator's accounting: every acknowledged write, the latest per customer (what a
 * reader must see now), and every failed write. A customer whose latest write failed has an
 * unknown state (the write may or may not have committed): it is left out of the checks, and the
 * failure itself already fails the rehearsal.
 */
export class WriteLedger implements CustomerLedger<AcknowledgedWrite> {
  private readonly latest = new Map<string, AcknowledgedWrite>();
  private readonly unknown = new Set<string>();
  private nextSeq = 0;
  acknowledged = 0;
  failed = 0;
  readonly failureSamples: FailedWrite[] = [];

  record(write: Omit<AcknowledgedWrite, 'seq'>): AcknowledgedWrite {
    const entry = { ...write, seq: this.nextSeq++ };
    this.latest.set(write.id, entry);
    this.unknown.delete(write.id);
    this.acknowledged++;
    return entry;
  }

  /** A failed write (one transaction), of `failure.id` and of the `others` it wrote in the same transaction. */
  fail(failure: FailedWrite, others: readonly string[] = []): void {
    this.failed++;
    if (failure.id !== undefined) this.unknown.add(failure.id);
    for (const id of others) this.unknown.add(id);
    if (this.failureSamples.length < SAMPLE) this.failureSamples.push(failure);
  }

  /** The write a reader of this customer must see, unless its state is unknown. */
  latestFor(id: string): AcknowledgedWrite | undefined {
    return this.unknown.has(id) ? undefined : this.latest.get(id);
  }

  /** The latest acknowledged write of every customer whose state is known. */
  latestWrites(): AcknowledgedWrite[] {
    return [...this.latest.values()].filter((w) => !this.unknown.has(w.id));
  }
}
