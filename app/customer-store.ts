import type { QueryResultRow } from 'pg';
import { AppVersion } from '../phases/deploy/stages';

/** The `customers` columns an app version may read or write. */
export interface CustomerColumns {
  readonly full_name?: string;
  readonly first_name?: string | null;
  readonly last_name?: string | null;
}

/** A customer as one app version reads it. */
export interface Customer {
  readonly id: string;
  /** The display name: full_name for v1; first and last name joined for v2 and v3. */
  readonly name: string;
  /** Exactly the columns this version read, as the database returned them. */
  readonly columns: CustomerColumns;
}

/**
 * The demo app's data layer. Each app version (the talk's v1, v2, v3) implements it over the
 * columns that version knows; the HTTP server and `tandem rehearse` both use it.
 */
export interface CustomerStore {
  readonly version: AppVersion;
  /** The columns this version writes for a given name (what it sends to the database). */
  columnsFor(name: string): CustomerColumns;
  create(name: string): Promise<Customer>;
  /** Undefined when the customer does not exist. */
  rename(id: string, name: string): Promise<Customer | undefined>;
  get(id: string): Promise<Customer | undefined>;
  list(): Promise<Customer[]>;
}

/** What the stores need of a connection: node-postgres' Pool and Client both fit (rows typed as the caller names them). */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}
