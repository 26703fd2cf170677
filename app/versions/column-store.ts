import { AppVersion } from '../../phases/deploy/stages';
import { quoteIdent } from '../../phases/sql/identifiers';
import { Customer, CustomerColumns, CustomerStore, Queryable } from '../customer-store';

/** The table every version of the demo app works on. */
export const CUSTOMERS_TABLE = 'customers';

/** What distinguishes one app version from another: the columns it reads and writes. */
export interface VersionColumnsArgs {
  readonly version: AppVersion;
  /** The columns this version SELECTs. */
  readonly reads: readonly (keyof CustomerColumns)[];
  /** The column values this version writes for a name. */
  readonly write: (name: string) => CustomerColumns;
  /** The display name from the columns it read. */
  readonly display: (row: CustomerColumns) => string;
}

/** A CustomerStore over plain parameterised SQL; each version file declares its columns. */
export class ColumnStore implements CustomerStore {
  readonly version: AppVersion;
  private readonly select: string;

  constructor(
    private readonly db: Queryable,
    private readonly args: VersionColumnsArgs,
  ) {
    this.version = args.version;
    this.select = ['id', ...args.reads].map(quoteIdent).join(', ');
  }

  columnsFor(name: string): CustomerColumns {
    return this.args.write(name);
  }

  async create(name: string): Promise<Customer> {
    const entries = Object.entries(this.columnsFor(name));
    const columns = entries.map(([c]) => quoteIdent(c)).join(', ');
    const params = entries.map((_, i) => `$${i + 1}`).join(', ');
    const { rows } = await this.db.query(
      `INSERT INTO ${quoteIdent(CUSTOMERS_TABLE)} (${columns}) VALUES (${params}) RETURNING ${this.select}`,
      entries.map(([, v]) => v),
    );
    return this.toCustomer(rows[0]);
  }

  async rename(id: string, name: string): Promise<Customer | undefined> {
    const entries = Object.entries(this.columnsFor(name));
    const sets = entries.map(([c], i) => `${quoteIdent(c)} = $${i + 2}`).join(', ');
    const { rows } = await this.db.query(
      `UPDATE ${quoteIdent(CUSTOMERS_TABLE)} SET ${sets} WHERE id = $1 RETURNING ${this.select}`,
      [id, ...entries.map(([, v]) => v)],
    );
    return rows[0] ? this.toCustomer(rows[0]) : undefined;
  }

  async get(id: string): Promise<Customer | undefined> {
    const { rows } = await this.db.query(`SELECT ${this.select} FROM ${quoteIdent(CUSTOMERS_TABLE)} WHERE id = $1`, [
      id,
    ]);
    return rows[0] ? this.toCustomer(rows[0]) : undefined;
  }

  async list(): Promise<Customer[]> {
    const { rows } = await this.db.query(`SELECT ${this.select} FROM ${quoteIdent(CUSTOMERS_TABLE)} ORDER BY id`);
    return rows.map((row) => this.toCustomer(row));
  }

  private toCustomer(row: Record<string, unknown>): Customer {
    const columns: Record<string, unknown> = {};
    for (const c of this.args.reads) columns[c] = row[c];
    return {
      id: String(row.id),
      name: this.args.display(columns as CustomerColumns),
      columns: columns as CustomerColumns,
    };
  }
}
