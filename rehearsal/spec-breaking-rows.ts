import { candidatesAround, constantsOf, RowRule, rowsBreakingSpec } from './constraint-values';
import { ExpressionEvaluator, Row } from './expression-evaluator';
import { TableModel, writableColumns } from './table-model';
import { columnValues } from './value-generator';

/**
 * Rows an old version may write that the CHECKs the spec adds refuse (and the table's own rules
 * accept): rows of the traffic's pool with the spec's CHECKs' columns set to values around their
 * constants (`quantity <= 50`: 51, 60, ...) and to values by type, kept when PostgreSQL says they
 * break a spec CHECK. Empty when the spec adds none, or none of its columns is one the rows write.
 */
export async function specBreakingRows(
  evaluator: ExpressionEvaluator,
  rules: readonly RowRule[],
  model: TableModel,
  pool: readonly Row[],
  random: () => number,
  count = 200,
): Promise<Row[]> {
  const spec = rules.filter((r) => r.kind === 'spec');
  if (!spec.length || !pool.length) return [];
  const writable = new Map(writableColumns(model).map((c) => [c.name, c]));
  const candidates: Row[] = [];
  for (const rule of spec) {
    const cols = rule.columns.filter((c) => writable.has(c) && c in pool[0]);
    if (!cols.length || cols.length !== rule.columns.length) continue;
    for (const name of cols) {
      const col = writable.get(name)!;
      const values = [
        ...candidatesAround(col, constantsOf(rule.expr), random),
        ...Array.from({ length: 50 }, columnValues(col, random)),
      ];
      for (const v of values)
        if (v !== null) candidates.push({ ...pool[Math.floor(random() * pool.length)], [name]: v });
    }
  }
  const breaking = await rowsBreakingSpec(evaluator, rules, candidates);
  return breaking.slice(0, count);
}
