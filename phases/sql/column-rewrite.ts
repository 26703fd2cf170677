/**
 * Rewrites column references in SQL that PostgreSQL printed itself (pg_get_indexdef,
 * pg_get_constraintdef): every name token equal to a renamed column becomes the new name, quoted.
 * Names inside string constants, names after `.` (a qualified name: schema.function, table.column
 * of another table), names followed by `(` (a function call) and names after `::` (a type) are
 * not columns and are left alone. `leftover` lists the renamed columns still named in one of those
 * positions: the caller cannot be sure the text no longer reads them, and must not carry it.
 */
import { quoteIdent } from './identifiers';

export function rewriteColumns(
  sql: string,
  renames: Readonly<Record<string, string>>,
): { sql: string; leftover: string[] } {
  let out = '';
  const leftover = new Set<string>();
  let i = 0;
  /** The last significant character emitted (for `.` and `::`). */
  let prev = '';
  let prev2 = '';
  const emit = (text: string, sig: string) => {
    out += text;
    prev2 = prev;
    prev = sig;
  };
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'") {
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) break;
        if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === '\\' && sql[i - 1]?.toUpperCase() === 'E') j += 2;
        else if (sql[j] === "'") break;
        else j++;
      }
      emit(sql.slice(i, j + 1), "'");
      i = j + 1;
      continue;
    }
    let name: string | undefined;
    let end = i;
    if (c === '"') {
      let j = i + 1;
      let text = '';
      while (j < sql.length) {
        if (sql[j] === '"' && sql[j + 1] === '"') {
          text += '"';
          j += 2;
        } else if (sql[j] === '"') break;
        else text += sql[j++];
      }
      name = text;
      end = j + 1;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[j])) j++;
      // PostgreSQL prints a name unquoted only when it is already in its folded (lower-case) form.
      name = sql.slice(i, j);
      end = j;
    }
    if (name === undefined) {
      if (!/\s/.test(c)) emit(c, c);
      else out += c;
      i++;
      continue;
    }
    const original = sql.slice(i, end);
    const target = Object.prototype.hasOwnProperty.call(renames, name) ? renames[name] : undefined;
    if (target === undefined) {
      emit(original, 'w');
    } else {
      let k = end;
      while (k < sql.length && /\s/.test(sql[k])) k++;
      const call = sql[k] === '(';
      const qualified = prev === '.';
      const typed = prev === ':' && prev2 === ':';
      if (call || qualified || typed) {
        leftover.add(name);
        emit(original, 'w');
      } else emit(quoteIdent(target), 'w');
    }
    i = end;
  }
  return { sql: out, leftover: [...leftover] };
}
