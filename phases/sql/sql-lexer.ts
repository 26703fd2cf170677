/**
 * A lexer for PostgreSQL's SQL (and PL/pgSQL bodies, which share its lexical rules): words
 * (keywords and names, unquoted ones lower-cased as PostgreSQL folds them), quoted names, string
 * constants (plain, E'' with backslash escapes, and dollar-quoted, whose text is kept for a second
 * look), and single-character symbols. Comments (`--` and nested `/* *\/`) and white space are
 * skipped. Only what a guard needs to see what a statement does, not a parser.
 */
import { SpecError } from '../errors';

export type SqlToken =
  | { readonly kind: 'word'; readonly text: string; readonly quoted: boolean }
  | { readonly kind: 'string'; readonly text: string; readonly dollar: boolean }
  | { readonly kind: 'symbol'; readonly text: string };

/** Text the lexer cannot read to its end (an unclosed string, quoted name or comment): bad input. */
export class SqlLexError extends SpecError {
  constructor(message: string) {
    super('', message);
    this.name = 'SqlLexError';
  }
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;

export function lexSql(text: string): SqlToken[] {
  const out: SqlToken[] = [];
  let i = 0;
  const at = (k: number) => text[i + k] ?? '';
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && at(1) === '-') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end + 1;
    } else if (c === '/' && at(1) === '*') {
      let depth = 1;
      i += 2;
      while (depth > 0) {
        if (i >= text.length) throw new SqlLexError('an unclosed comment (/*)');
        if (text[i] === '/' && text[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (text[i] === '*' && text[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (c === "'") {
      // E'...' (the E just before, not ending a longer word) takes backslash escapes.
      const prev = out[out.length - 1];
      const escapes = prev?.kind === 'word' && !prev.quoted && prev.text === 'e' && text[i - 1]?.toLowerCase() === 'e';
      if (escapes) out.pop();
      let body = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new SqlLexError('an unclosed string constant');
        if (escapes && text[i] === '\\') {
          body += text.slice(i, i + 2);
          i += 2;
        } else if (text[i] === "'" && text[i + 1] === "'") {
          body += "'";
          i += 2;
        } else if (text[i] === "'") {
          i++;
          break;
        } else body += text[i++];
      }
      out.push({ kind: 'string', text: body, dollar: false });
    } else if (c === '"') {
      let name = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new SqlLexError('an unclosed quoted name');
        if (text[i] === '"' && text[i + 1] === '"') {
          name += '"';
          i += 2;
        } else if (text[i] === '"') {
          i++;
          break;
        } else name += text[i++];
      }
      out.push({ kind: 'word', text: name, quoted: true });
    } else if (c === '$' && /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.test(text.slice(i))) {
      const tag = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(text.slice(i))![0];
      const end = text.indexOf(tag, i + tag.length);
      if (end < 0) throw new SqlLexError(`an unclosed dollar-quoted string (${tag})`);
      out.push({ kind: 'string', text: text.slice(i + tag.length, end), dollar: true });
      i = end + tag.length;
    } else if (WORD_START.test(c)) {
      let j = i + 1;
      while (j < text.length && WORD_PART.test(text[j])) j++;
      out.push({ kind: 'word', text: text.slice(i, j).toLowerCase(), quoted: false });
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[0-9A-Za-z_.]/.test(text[j])) j++;
      out.push({ kind: 'symbol', text: text.slice(i, j) });
      i = j;
    } else {
      out.push({ kind: 'symbol', text: c });
      i++;
    }
  }
  return out;
}
