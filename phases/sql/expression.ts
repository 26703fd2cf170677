import { SpecError } from '../errors';

/** The dollar-quote tag Tandem uses for function bodies; an expression may not contain it. */
export const BODY_TAG = '$tandem_body$';

/**
 * An `up`/`down` expression is one SQL expression, embedded as `(expr)` in UPDATE, SELECT and
 * PL/pgSQL assignments. This lexical check keeps it one expression: strings, quoted names and
 * dollar quotes closed, parentheses balanced, and no `;` or comment outside them. The live
 * catalog then parses it for real (PREPARE, which executes nothing).
 */
export function checkExpression(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim().length === 0) throw new SpecError(field, 'must be a SQL expression');
  const expr = value.trim();
  if (expr.includes(BODY_TAG)) throw new SpecError(field, `must not contain ${BODY_TAG}, which Tandem reserves`);
  if (expr.includes('\0')) throw new SpecError(field, 'must not contain a NUL character');
  let depth = 0;
  let i = 0;
  const fail = (what: string): never => {
    throw new SpecError(field, `${what} in expression ${JSON.stringify(expr)}`);
  };
  while (i < expr.length) {
    const c = expr[i];
    const next = expr[i + 1];
    if (c === "'") {
      // E'...' takes backslash escapes, unless the E ends a longer identifier (PostgreSQL counts any letter, é too).
      const escapes = i > 0 && /[eE]/.test(expr[i - 1]) && !/[\p{L}\p{N}_$]/u.test(expr[i - 2] ?? '');
      i++;
      for (;;) {
        if (i >= expr.length) fail('an unclosed string literal');
        if (escapes && expr[i] === '\\') {
          i += 2;
          continue;
        }
        if (expr[i] === "'") {
          if (expr[i + 1] === "'") {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      i++;
      continue;
    }
    if (c === '"') {
      const end = expr.indexOf('"', i + 1);
      if (end < 0) fail('an unclosed quoted name');
      i = end + 1;
      while (expr[i] === '"') {
        const again = expr.indexOf('"', i + 1);
        if (again < 0) fail('an unclosed quoted name');
        i = again + 1;
      }
      continue;
    }
    if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(expr.slice(i));
      if (tag && !(i > 0 && /[\p{L}\p{N}_]/u.test(expr[i - 1]))) {
        const end = expr.indexOf(tag[0], i + tag[0].length);
        if (end < 0) fail('an unclosed dollar-quoted string');
        i = end + tag[0].length;
        continue;
      }
    }
    if (c === '-' && next === '-') fail('a comment (--)');
    if (c === '/' && next === '*') fail('a comment (/*)');
    if (c === ';') fail('a semicolon, which would end the statement');
    if (c === '(') depth++;
    if (c === ')') {
      depth--;
      if (depth < 0) fail('an unbalanced closing parenthesis');
    }
    i++;
  }
  if (depth !== 0) fail('an unclosed parenthesis');
  return expr;
}
