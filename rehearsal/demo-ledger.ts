import { CustomerColumns } from '../app/customer-store';
import { joinName } from '../app/split-name';
import { MappingPool, rawKey, sameValues, Values } from './round-trip';
import { MappingWrite, RowLedger, RowOp, RowWrite } from './row-ledger';
import { AcknowledgedWrite, CustomerLedger, FailedWrite } from './write-ledger';

/** The demo table's key as the generic ledger and checker spell it: the id as a JSON array of text. */
export const demoKey = (id: string): string => JSON.stringify([id]);

const OPS: Record<AcknowledgedWrite['op'], RowOp> = { seed: 'seed', create: 'insert', rename: 'update' };

/**
 * The demo app's writes in the generic ledger: what each version's data layer sent becomes the
 * sides of the spec's one operation, with what the spec derives for the side the writer left to the
 * trigger (from the round-trip pool, evaluated in PostgreSQL on the names the traffic writes):
 * v1 sends full_name (first_name/last_name = up(full_name)); v2 sends all three, exactly; v3 sends
 * first_name/last_name (full_name = down(them)). The generic checker then holds each side to it.
 */
export class DemoLedger implements CustomerLedger<RowWrite> {
  constructor(
    readonly rows: RowLedger,
    private readonly pool: MappingPool,
  ) {}

  record(write: Omit<AcknowledgedWrite, 'seq'>): RowWrite {
    return this.rows.record({
      key: demoKey(write.id),
      version: write.version,
      op: OPS[write.op],
      stage: write.stage,
      deleted: false,
      untouched: {},
      mappings: [this.mappingWrite(write)],
    });
  }

  fail(failure: FailedWrite, others: readonly string[] = []): void {
    const keys = [...(failure.id !== undefined ? [failure.id] : []), ...others].map(demoKey);
    this.rows.fail(
      {
        ...failure,
        op: failure.op === 'create' ? 'insert' : 'update',
        id: failure.id === undefined ? undefined : demoKey(failure.id),
      },
      keys,
    );
  }

  latestFor(id: string): RowWrite | undefined {
    return this.rows.latestFor(demoKey(id));
  }

  private mappingWrite({ version, columns }: Omit<AcknowledgedWrite, 'seq'>): MappingWrite {
    const old: Values = { full_name: columns.full_name ?? null };
    if (version === 'v1') {
      const entry = this.entryOf(old);
      return {
        old,
        new: entry?.raw && sameValues(entry.raw, old, this.pool.oldColumns) ? entry.new : undefined,
        oldExact: true,
        newExact: false,
        entry,
      };
    }
    const nw: Values = { first_name: columns.first_name ?? null, last_name: columns.last_name ?? null };
    // The pool entry of this name, when the app's own split agrees with the spec's up: its down and round trip are known.
    const joined = { full_name: joinName(nw.first_name, nw.last_name) };
    const candidate = this.entryOf(version === 'v2' ? old : joined);
    const entry = candidate && sameValues(candidate.new, nw, this.pool.newColumns) ? candidate : undefined;
    if (version === 'v2') return { old, new: nw, oldExact: true, newExact: true, entry };
    // v3: full_name is down(first_name, last_name), from the pool when known, else concat_ws's equal in the app (checked leniently: up of what is seen).
    return { old: entry ? entry.old : joined, new: nw, oldExact: false, newExact: true, entry };
  }

  private entryOf(old: Values) {
    return this.pool.byRaw.get(rawKey(old, this.pool.oldColumns));
  }
}

/** A customer's columns as the generic checker reads a row. */
export function rowOf(columns: CustomerColumns | null): Record<string, string | null> | null {
  return columns === null ? null : { ...columns };
}
