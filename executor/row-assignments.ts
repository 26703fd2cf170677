import { Client } from 'pg';
import { directAssignmentKey } from '../phases/sql/plan';
import { quoteIdent } from '../phases/sql/identifiers';
import { ResolvedSpec } from '../phases/sql/spec';
import { querySingle } from './connection';

/** One expression expand read through a throwaway view, and the column the trigger assigns it to. */
export interface EvaluatedExpression {
  readonly view: string;
  readonly expr: string;
  readonly target: string;
}

/**
 * The shape's columns renamed: no column name or expression text of the spec contains it (checked);
 * a string constant that spells it with escapes stays a constant (the print is read token by token).
 */
const PLACEHOLDER = 'tandem_col_';

/**
 * The `up`/`down` expressions the sync trigger may assign as PL/pgSQL expressions over NEW
 * (`NEW."c" := split_part(NEW."full_name", ' '::text, 1)`, evaluated without a query) instead of
 * `SELECT (expr) FROM (SELECT NEW.*) AS <table> INTO NEW."c"`, keyed by directAssignmentKey. The
 * rewrite is PostgreSQL's own: each expression's throwaway view (over the shape, under the table's
 * name, in the open transaction, under the pinned search_path) is printed back by pg_get_viewdef
 * after every column of the shape has been renamed to a placeholder, so each column reference
 * prints as a placeholder that cannot be anything else and becomes `NEW."<column>"`. Only when
 * the view's value has the target column's type exactly (no coercion for an assignment to differ
 * on) and the print has the expected shape; anything else keeps the SELECT. The caller calls this
 * only for settings-independent expressions (plain nodes: no subquery, whole row or aggregate),
 * and last in the transaction, which is rolled back.
 */
export async function rowAssignments(
  client: Client,
  resolved: ResolvedSpec,
  evaluated: readonly EvaluatedExpression[],
): Promise<Record<string, string>> {
  const columns = (
    await client.query<{ num: number; name: string; type: number; typmod: number }>(
      `SELECT attnum AS num, attname AS name, atttypid::int AS type, atttypmod AS typmod
         FROM pg_attribute WHERE attrelid = 'pg_temp._tandem_shape'::regclass AND attnum > 0 AND NOT attisdropped`,
    )
  ).rows;
  const texts = [resolved.table.name, ...columns.map((c) => c.name), ...evaluated.map((e) => e.expr)];
  if (!evaluated.length || texts.some((t) => t.toLowerCase().includes(PLACEHOLDER))) return {};
  for (const c of columns)
    await querySingle(
      client,
      `ALTER TABLE pg_temp._tandem_shape RENAME COLUMN ${quoteIdent(c.name)} TO ${PLACEHOLDER}${c.num}`,
    );
  const alias = (await client.query<{ a: string }>(`SELECT quote_ident($1) AS a`, [resolved.table.name])).rows[0].a;
  const byNum = new Map(columns.map((c) => [c.num, c]));
  const byName = new Map(columns.map((c) => [c.name, c]));
  const out: Record<string, string> = {};
  for (const e of evaluated) {
    const target = byName.get(e.target);
    const printed = await viewValue(client, e.view);
    if (
      !target ||
      !printed ||
      printed.type !== target.type ||
      (target.typmod !== -1 && printed.typmod !== target.typmod)
    )
      continue;
    const form = overNew(printed.text, alias, byNum);
    if (form !== undefined) out[directAssignmentKey(e.target, e.expr)] = form;
  }
  return out;
}

/** The view's one value as PostgreSQL prints it (`SELECT <value> AS v FROM ...`), with its type. */
async function viewValue(
  client: Client,
  view: string,
): Promise<{ text: string; type: number; typmod: number } | undefined> {
  const r = await client.query<{ def: string; type: number; typmod: number }>(
    `SELECT pg_get_viewdef(c.oid) AS def, a.atttypid::int AS type, a.atttypmod AS typmod
       FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'v'
      WHERE c.oid = $1::regclass`,
    [`pg_temp.${view}`],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  const def = row.def.trim();
  const end = def.lastIndexOf(' AS v\n');
  if (!def.startsWith('SELECT ') || end < 0 || !/^ AS v\n\s+FROM /.test(def.slice(end))) return undefined;
  return { text: def.slice('SELECT '.length, end), type: row.type, typmod: row.typmod };
}

/** The end (exclusive) of the string constant opening at `i` (`'...'`, `''` inside; with `escapes`, `\\` escapes too). */
function stringEnd(text: string, i: number, escapes: boolean): number {
  let j = i + 1;
  while (j < text.length) {
    if (escapes && text[j] === '\\') j += 2;
    else if (text[j] === "'" && text[j + 1] === "'") j += 2;
    else if (text[j] === "'") return j + 1;
    else j++;
  }
  return j;
}

/** The end (exclusive) of the name opening at `i`: a quoted one (`""` inside) or a plain word. */
function nameEnd(text: string, i: number): number {
  if (text[i] === '"') {
    let j = i + 1;
    while (j < text.length) {
      if (text[j] === '"' && text[j + 1] === '"') j += 2;
      else if (text[j] === '"') return j + 1;
      else j++;
    }
    return j;
  }
  let j = i + 1;
  while (j < text.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(text[j])) j++;
  return j;
}

const PLACEHOLDER_NAME = new RegExp(`^${PLACEHOLDER}(\\d+)$`);

/**
 * Each placeholder name (`<alias>.tandem_col_N` or `tandem_col_N`) as `NEW."<column>"`, read
 * token by token so a string constant is copied as it is whatever it holds; undefined when a
 * placeholder stands in any other position (after another qualifier) or names no column.
 */
function overNew(
  text: string,
  alias: string,
  byNum: ReadonlyMap<number, { readonly name: string }>,
): string | undefined {
  let out = '';
  let i = 0;
  let lastWord = '';
  while (i < text.length) {
    const c = text[i];
    if (c === "'") {
      const end = stringEnd(text, i, /^[eE]$/.test(lastWord) && out.endsWith(lastWord));
      out += text.slice(i, end);
      i = end;
      lastWord = '';
      continue;
    }
    if (c !== '"' && !/[A-Za-z_\u0080-\uffff]/.test(c)) {
      out += c;
      i++;
      lastWord = '';
      continue;
    }
    let end = nameEnd(text, i);
    let name = text.slice(i, end);
    if (name === alias && text[end] === '.' && PLACEHOLDER_NAME.test(text.slice(end + 1, nameEnd(text, end + 1)))) {
      i = end + 1;
      end = nameEnd(text, i);
      name = text.slice(i, end);
    } else if (PLACEHOLDER_NAME.test(name) && out.endsWith('.')) return undefined;
    const placeholder = PLACEHOLDER_NAME.exec(name);
    if (placeholder) {
      const column = byNum.get(Number(placeholder[1]));
      if (!column) return undefined;
      out += `NEW.${quoteIdent(column.name)}`;
    } else out += name;
    lastWord = name;
    i = end;
  }
  return out;
}
