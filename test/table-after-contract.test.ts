import { TableColumn, TableInfo } from '../phases/sql/operations';
import { PENDING_COLUMN, ResolvedSpec } from '../phases/sql/spec';
import { tableAfterContract } from '../phases/sql/table-after-contract';

const col = (name: string, extra: Partial<TableColumn> = {}): TableColumn => ({
  name,
  type: 'text',
  notNull: false,
  hasDefault: false,
  ...extra,
});
const id = col('id', { type: 'bigint', notNull: true });
const table: TableInfo = {
  oid: 1,
  schema: 'public',
  name: 'customers',
  primaryKey: [id],
  columns: [
    id,
    col('full_name'),
    col('first_name'),
    col('last_name'),
    col('note'),
    col(PENDING_COLUMN, { type: 'boolean' }),
  ],
};

/** A resolution that retires `oldColumns` and adds `newColumns` (only the fields tableAfterContract reads). */
const inProgress = (oldColumns: string[], newColumns: object[]) =>
  ({
    mappings: [{ kind: 'split_column', field: 'operations[0]', label: 'x', oldColumns, newColumns, down: {} }],
  }) as unknown as ResolvedSpec;

describe('tableAfterContract', () => {
  it.each([
    [
      'drops the old columns and the bookkeeping column',
      [inProgress(['full_name'], [{ name: 'first_name', notNull: false }])],
      ['id', 'first_name', 'last_name', 'note'],
      {},
    ],
    [
      'sets NOT NULL contract enforces',
      [inProgress(['full_name'], [{ name: 'last_name', notNull: true }])],
      ['id', 'first_name', 'last_name', 'note'],
      { last_name: { notNull: true, hasDefault: false } },
    ],
    [
      'sets a default set at contract, not one set at expand (already in the catalog)',
      [
        inProgress(
          [],
          [
            { name: 'first_name', notNull: false, default: "''", defaultAt: 'contract' },
            { name: 'last_name', notNull: false, default: "'x'", defaultAt: 'expand' },
          ],
        ),
      ],
      ['id', 'full_name', 'first_name', 'last_name', 'note'],
      { first_name: { hasDefault: true, defaultExpr: "''" }, last_name: { hasDefault: false } },
    ],
    [
      'two migrations in progress: both contract',
      [inProgress(['full_name'], []), inProgress(['note'], [])],
      ['id', 'first_name', 'last_name'],
      {},
    ],
    [
      'none in progress: only the bookkeeping column goes',
      [],
      ['id', 'full_name', 'first_name', 'last_name', 'note'],
      {},
    ],
  ])('%s', (_title, specs, names, props) => {
    const after = tableAfterContract(table, specs as ResolvedSpec[]);
    expect(after.columns.map((c) => c.name)).toEqual(names);
    for (const [name, p] of Object.entries(props))
      expect(after.columns.find((c) => c.name === name)).toMatchObject(p as object);
    expect(after.primaryKey).toEqual([id]);
  });
});
