/**
 * The table as it will be once the migrations in progress on it contract: their old columns
 * dropped, Tandem's bookkeeping column gone (its sync trigger and function go with them, and are
 * no columns), and each new column with what contract sets on it (NOT NULL, a default set at
 * contract). The next migration on the table can only expand then, so `tandem sql` of it plans
 * against this view. Pure.
 */
import { TableColumn, TableInfo } from './operations';
import { PENDING_COLUMN, ResolvedSpec } from './spec';

export function tableAfterContract(table: TableInfo, inProgress: readonly ResolvedSpec[]): TableInfo {
  const dropped = new Set<string>([
    PENDING_COLUMN,
    ...inProgress.flatMap((r) => r.mappings.flatMap((m) => m.oldColumns)),
  ]);
  const added = new Map(
    inProgress.flatMap((r) => r.mappings.flatMap((m) => m.newColumns.map((c) => [c.name, c] as const))),
  );
  const contracted = (c: TableColumn): TableColumn => {
    const n = added.get(c.name);
    if (!n) return c;
    const defaultAtContract = n.default !== undefined && n.defaultAt === 'contract';
    return {
      ...c,
      notNull: c.notNull || n.notNull,
      ...(defaultAtContract ? { hasDefault: true, defaultExpr: n.default } : {}),
    };
  };
  const columns = table.columns.filter((c) => !dropped.has(c.name)).map(contracted);
  return { ...table, columns, primaryKey: table.primaryKey.map(contracted) };
}
