import { ClientBase } from 'pg';
import { TandemError } from '../phases/errors';
import { quoteIdent } from '../phases/sql/identifiers';
import { ExpressionEvaluator, Row } from './expression-evaluator';
import { ModelColumn, TableModel, writableColumns } from './table-model';
import { patternSamples } from './pattern-samples';
import { columnValues } from './value-generator';

/**
 * A rule a generated row must keep: a CHECK of the table, a CHECK of a column's domain, or a CHECK
 * the spec adds (the data a rehearsal makes up should not break what the spec promises). `expr` is
 * PostgreSQL's own deparse of the parsed constraint (pg_get_expr of conbin), `columns` the columns
 * PostgreSQL found it reads (conkey).
 */
export interface RowRule {
  readonly kind: 'check' | 'domain' | 'spec';
  readonly name: string;
  readonly expr: string;
  readonly columns: readonly string[];
  /** A domain's CHECK: the domain it belongs to (its expression reads VALUE, tested by a cast). */
  readonly domain?: string;
}

/** No generated value or row gets past a constraint: the user has to bring rows. */
export class ConstraintRefusesError extends TandemError {
  readonly exitCode = 2;
  readonly kind = 'constraint_refuses_rows';
  constructor(
    readonly table: string,
    readonly rule: RowRule,
    readonly example: Row,
    readonly tried: number,
  ) {
    super(
      `${ruleLabel(rule)} of ${table} refuses every one of ${tried} generated ${rule.columns.length === 1 ? `values of ${rule.columns[0]}` : 'rows'}, e.g. ${JSON.stringify(example)}: ` +
        `copy real rows with --schema-from URL --sample N, or rehearse on a --schema FILE whose table the generator can fill`,
    );
    this.name = 'ConstraintRefusesError';
  }
}

export function ruleLabel(r: RowRule): string {
  if (r.kind === 'domain') return `the CHECK ${r.name} of the domain ${r.domain} (${r.expr})`;
  return `the ${r.kind === 'spec' ? "spec's " : ''}CHECK ${r.name} (${r.expr})`;
}

/** The CHECKs of the columns' domains (and of the domains they are built on). */
async function domainRules(db: ClientBase, model: TableModel): Promise<RowRule[]> {
  const { rows } = await db.query(
    `WITH RECURSIVE d(attname, typ) AS (
        SELECT a.attname, a.atttypid FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      UNION ALL
        SELECT d.attname, t.typbasetype FROM d JOIN pg_type t ON t.oid = d.typ WHERE t.typtype = 'd')
     SELECT d.attname::text AS column, c.conname::text AS name, pg_get_expr(c.conbin, 0) AS expr, format_type(c.contypid, NULL) AS domain
       FROM d JOIN pg_constraint c ON c.contypid = d.typ AND c.contype = 'c'
      ORDER BY 1, 2`,
    [model.oid],
  );
  return rows.map((r) => ({
    kind: 'domain' as const,
    name: r.name,
    expr: r.expr,
    columns: [r.column],
    domain: r.domain,
  }));
}

/**
 * The spec's CHECKs as PostgreSQL parses them: added NOT VALID to an empty temporary copy of the
 * table, then read back from the catalog (the columns they read, their canonical expression).
 */
async function specRules(
  db: ClientBase,
  model: TableModel,
  checks: readonly { name: string; check: string }[],
): Promise<RowRule[]> {
  if (!checks.length) return [];
  const probe = '_tandem_rehearsal_check_probe';
  await db.query(`DROP TABLE IF EXISTS pg_temp.${probe}`);
  await db.query(`CREATE TEMP TABLE ${probe} (LIKE ${model.qualified})`);
  try {
    const out: RowRule[] = [];
    for (const [i, c] of checks.entries()) {
      const name = `_tandem_probe_${i}`;
      try {
        await db.query(`ALTER TABLE pg_temp.${probe} ADD CONSTRAINT ${quoteIdent(name)} CHECK (${c.check}) NOT VALID`);
      } catch {
        continue; // it reads something the copy lacks: the spec's own validation reports it
      }
      const { rows } = await db.query(
        `SELECT pg_get_expr(c.conbin, c.conrelid) AS expr,
                ARRAY(SELECT a.attname::text FROM unnest(c.conkey) k(n) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n) AS columns
           FROM pg_constraint c WHERE c.conrelid = 'pg_temp.${probe}'::regclass AND c.conname = $1`,
        [name],
      );
      if (rows[0]) out.push({ kind: 'spec', name: c.name, expr: rows[0].expr, columns: rows[0].columns });
    }
    return out;
  } finally {
    await db.query(`DROP TABLE IF EXISTS pg_temp.${probe}`);
  }
}

/** Every rule of the table's rows: its CHECKs, its columns' domains' CHECKs, and the spec's. */
export async function rowRules(
  db: ClientBase,
  model: TableModel,
  specChecks: readonly { name: string; check: string }[] = [],
): Promise<RowRule[]> {
  return [
    ...model.checks.map((c) => ({ kind: 'check' as const, name: c.name, expr: c.expr, columns: c.columns })),
    ...(await domainRules(db, model)),
    ...(await specRules(db, model, specChecks)),
  ];
}

/**
 * The constants of a deparsed expression: its string literals (`'paid'::text`, `'{a,b}'::text[]`)
 * and its numbers. pg_get_expr prints every constant the same canonical way, so a small lexer reads
 * them all; what they mean is never guessed: candidates built from them are tested by PostgreSQL.
 */
export function constantsOf(expr: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < expr.length) {
    const ch = expr[i];
    if (ch === "'") {
      let s = '';
      let j = i + 1;
      for (; j < expr.length; j++) {
        if (expr[j] === "'") {
          if (expr[j + 1] === "'") {
            s += "'";
            j++;
            continue;
          }
          break;
        }
        s += expr[j];
      }
      out.push(s);
      i = j + 1;
    } else if (ch === '"') {
      const end = expr.indexOf('"', i + 1);
      i = end < 0 ? expr.length : end + 1;
    } else if (/[0-9]/.test(ch) && !/[A-Za-z0-9_$.]/.test(expr[i - 1] ?? '')) {
      const m = /^\d+(?:\.\d+)?(?:e[+-]?\d+)?/i.exec(expr.slice(i))!;
      const negative = /-\s*\(?\s*$/.test(expr.slice(Math.max(0, i - 3), i));
      out.push((negative ? '-' : '') + m[0]);
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(expr.slice(i))!;
      i += m[0].length;
    } else i++;
  }
  return out;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Values around and between the constants: each constant, one step either side, values between
 * neighbours and beyond the ends (a range), strings of the lengths named (a length limit).
 */
export function candidatesAround(col: ModelColumn, constants: readonly string[], random: () => number): string[] {
  const out = new Set<string>(constants);
  const numbers = [...new Set(constants.map(Number).filter((n) => Number.isFinite(n)))].sort((a, b) => a - b);
  const integer = ['int2', 'int4', 'int8'].includes(col.base);
  const scale = Math.min(col.scale ?? 2, 6);
  const fmt = (n: number) => (integer ? String(Math.round(n)) : n.toFixed(scale));
  if (col.category === 'N' && numbers.length) {
    for (const n of numbers) for (const d of [0, -1, 1, -0.01, 0.01]) out.add(fmt(n + d));
    const points = [numbers[0] - 1000, ...numbers, numbers[numbers.length - 1] + 1000];
    for (let k = 1; k < points.length; k++)
      for (let j = 0; j < 20; j++) out.add(fmt(points[k - 1] + random() * (points[k] - points[k - 1])));
  }
  const days = [...new Set(constants.map((c) => Date.parse(c.slice(0, 10))).filter((n) => Number.isFinite(n)))].sort(
    (a, b) => a - b,
  );
  if (col.category === 'D' && days.length) {
    const day = 86400000;
    const points = [days[0] - 3650 * day, ...days, days[days.length - 1] + 3650 * day];
    for (const d of days) for (const k of [-1, 1]) out.add(isoDay(d + k * day));
    for (let k = 1; k < points.length; k++)
      for (let j = 0; j < 20; j++) out.add(isoDay(points[k - 1] + random() * (points[k] - points[k - 1])));
  }
  if (col.category === 'S') {
    for (const n of numbers.filter((x) => Number.isInteger(x) && x > 0 && x <= 200)) {
      for (const len of [n - 1, n, n + 1]) if (len > 0) out.add('Ab'.repeat(len).slice(0, len));
    }
    for (const c of constants) {
      out.add(c.toUpperCase());
      out.add(c.toLowerCase());
      // A constant that reads as a regular expression (`~ '^[A-Z]{3}$'`): strings it matches.
      for (const v of patternSamples(c, random, 300)) out.add(v);
    }
  }
  return [...out];
}

/** The elements of constants that are array literals (`{new,paid}`), read by PostgreSQL. */
async function arrayElements(db: ClientBase, constants: readonly string[]): Promise<string[]> {
  const arrays = constants.filter((c) => c.startsWith('{') && c.endsWith('}'));
  const out: string[] = [];
  for (const a of arrays) {
    try {
      const { rows } = await db.query(`SELECT unnest($1::text[]) AS v`, [a]);
      for (const r of rows) if (r.v !== null) out.push(r.v);
    } catch {
      // not an array of text: its elements are not candidates
    }
  }
  return out;
}

export interface LearnedValues {
  /** Per column that one-column rules constrain: the values that passed them (and the column's type and domain). */
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly rules: readonly RowRule[];
}

/**
 * Evaluate the rules over rows: per row, whether every one holds (NULL holds, as in PostgreSQL).
 * A domain's CHECK is tested by the cast into the relation, which PostgreSQL evaluates only for a
 * column the query reads: each domain column is read too.
 */
async function holds(
  evaluator: ExpressionEvaluator,
  rules: readonly RowRule[],
  rows: readonly Row[],
): Promise<{ all: boolean[]; each: boolean[][] }> {
  const tableRules = rules.filter((r) => r.kind !== 'domain');
  const domainColumns = [...new Set(rules.filter((r) => r.kind === 'domain').flatMap((r) => r.columns))];
  const exprs = [
    ...tableRules.map((r) => ({ sql: `(${r.expr}) IS NOT FALSE` })),
    ...domainColumns.map((c) => ({ sql: quoteIdent(c) })),
  ];
  const held = await evaluator.evaluate(rows, exprs.length ? exprs : [{ sql: 'true' }]);
  const each = held.map((h) => tableRules.map((_, k) => h.ok && h.values[k] === 'true'));
  return { all: held.map((h, i) => h.ok && each[i].every(Boolean)), each };
}

/** The rule that refused every row: a table rule none passed, else the domain (its cast raised). */
function refusingRule(rules: readonly RowRule[], each: boolean[][]): RowRule | undefined {
  const tableRules = rules.filter((r) => r.kind !== 'domain');
  return tableRules.find((_, k) => each.every((e) => !e[k])) ?? rules.find((r) => r.kind === 'domain');
}

/** Test candidate values of one column against its one-column rules, in PostgreSQL: those every rule accepts. */
async function acceptedValues(
  evaluator: ExpressionEvaluator,
  col: ModelColumn,
  rules: readonly RowRule[],
  candidates: readonly string[],
): Promise<{ accepted: string[]; refusedBy?: RowRule; example?: string }> {
  const { all, each } = await holds(
    evaluator,
    rules,
    candidates.map((v) => ({ [col.name]: v })),
  );
  const accepted = candidates.filter((_, i) => all[i]);
  if (accepted.length || !candidates.length) return { accepted };
  return { accepted, refusedBy: refusingRule(rules, each), example: candidates[0] };
}

/**
 * Learn, for every column that one-column rules constrain, values that keep them: candidates from
 * the ordinary generator and from the rules' constants (IN lists, `= ANY` arrays, range bounds,
 * lengths) are evaluated against the rules by PostgreSQL itself, over a relation named like the
 * table whose columns have the table's types (a domain's CHECK raises in the cast). `strict`: a
 * column whose rules refuse every candidate is an error (else it keeps values by type).
 */
export async function learnValues(
  db: ClientBase,
  model: TableModel,
  rules: readonly RowRule[],
  random: () => number,
  strict = true,
  tries = 2000,
): Promise<LearnedValues> {
  const values = new Map<string, string[]>();
  const table = `${model.schema}.${model.name}`;
  for (const col of writableColumns(model)) {
    const own = rules.filter((r) => r.columns.length === 1 && r.columns[0] === col.name);
    if (!own.length) continue;
    const constants = own.flatMap((r) => constantsOf(r.expr));
    constants.push(...(await arrayElements(db, constants)));
    const source = columnValues({ ...col, notNull: true }, random);
    const generated = Array.from({ length: tries }, source).filter((v): v is string => v !== null);
    const candidates = [...new Set([...candidatesAround(col, constants, random), ...generated])];
    // A relation of this column alone: the other columns' types (a NOT NULL domain) play no part.
    const evaluator = new ExpressionEvaluator(db, model.name, [{ name: col.name, type: col.type }]);
    const { accepted, refusedBy, example } = await acceptedValues(evaluator, col, own, candidates);
    if (!accepted.length && refusedBy && strict)
      throw new ConstraintRefusesError(table, refusedBy, { [col.name]: example ?? null }, candidates.length);
    values.set(col.name, accepted);
  }
  return { values, rules };
}

/**
 * Keep the rows every rule accepts (NULL counts as kept, as in PostgreSQL). When none is kept, the
 * rule that refused them all, with an example row.
 */
export async function rowsKeepingRules(
  evaluator: ExpressionEvaluator,
  rules: readonly RowRule[],
  rows: readonly Row[],
): Promise<{ kept: Row[]; refusedBy?: RowRule; example?: Row }> {
  const { all, each } = await holds(evaluator, rules, rows);
  const kept = rows.filter((_, i) => all[i]);
  if (kept.length || !rows.length) return { kept };
  return { kept, refusedBy: refusingRule(rules, each), example: rows[0] };
}

/**
 * The rows that keep every rule of the table and its domains but break a CHECK the spec adds: what
 * an old version may still write while the spec promises the new version never will.
 */
export async function rowsBreakingSpec(
  evaluator: ExpressionEvaluator,
  rules: readonly RowRule[],
  rows: readonly Row[],
): Promise<Row[]> {
  const own = rules.filter((r) => r.kind !== 'spec');
  const spec = rules.filter((r) => r.kind === 'spec');
  if (!spec.length || !rows.length) return [];
  const kept = (await holds(evaluator, own, rows)).all;
  const { each } = await holds(evaluator, spec, rows);
  return rows.filter((_, i) => kept[i] && each[i].some((ok) => !ok));
}
