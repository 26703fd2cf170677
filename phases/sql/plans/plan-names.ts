import { createHash } from 'crypto';
import { fitIdentifier, quoteQualified } from '../identifiers';
import { NewColumn } from '../operations';
import { ResolvedSpec } from '../spec';

/**
 * SQL plans per step, as data. Pure: no connections. The executor runs each plan's statements in
 * one transaction under a short lock_timeout, retried with backoff.
 */
export interface PlanStatement {
  readonly id: string;
  readonly sql: string;
  /** The user's own SQL (raw_sql): the executor checks after it that the transaction, its bounds and role are intact. */
  readonly untrusted?: boolean;
}

export const STATE_SCHEMA = 'tandem';

/** Names Tandem derives from the spec name (`[a-z0-9-]{1,40}`): each fits in 63 bytes (fitIdentifier), never truncated by the server. */
export function derivedNames(resolved: ResolvedSpec) {
  const base = resolved.spec.name.replace(/-/g, '_');
  return {
    // BEFORE ROW triggers fire in name order: `zz_` lets the app's own BEFORE triggers (which may
    // normalize a value) run first, so the sync sees the row as it will be stored.
    trigger: fitIdentifier(`zz_tandem_sync_${base}`),
    functionSchema: STATE_SCHEMA,
    function: fitIdentifier(`sync_${base}`),
    // Never truncated: a short hash of the column keeps two long column names apart.
    // While both versions run: NOT NULL unless the row is flagged (`_tandem_pending` NULL: its sync failed).
    notNullCheck: (column: string) =>
      fitIdentifier(`_tandem_nn_${base}_${createHash('sha256').update(column).digest('hex').slice(0, 10)}`),
    // Before contract: plain NOT NULL, validated, so contract's SET NOT NULL needs no scan.
    notNullStrictCheck: (column: string) =>
      fitIdentifier(`_tandem_nv_${base}_${createHash('sha256').update(column).digest('hex').slice(0, 10)}`),
  };
}

/** The table, schema-qualified and quoted. */
export function table(resolved: ResolvedSpec): string {
  return quoteQualified(resolved.table.schema, resolved.table.name);
}

export function notNullColumns(resolved: ResolvedSpec): NewColumn[] {
  return resolved.mappings.flatMap((m) => m.newColumns.filter((c) => c.notNull));
}

export function qualifiedFunction(resolved: ResolvedSpec): string {
  const n = derivedNames(resolved);
  return quoteQualified(n.functionSchema, n.function);
}
