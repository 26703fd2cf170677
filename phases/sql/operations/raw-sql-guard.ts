import { lexSql, SqlLexError, SqlToken } from '../sql-lexer';

/**
 * What a raw_sql statement may not do: it runs inside the step's own transaction (expand's,
 * contract's, rollback's, or validate's, which is rolled back), under the bounds the step set.
 * Transaction control would commit or end that transaction halfway (validate would commit what it
 * only tries), and changing the bounds or the role would lift what keeps app writes from waiting.
 * The executor also checks, after each raw statement, that its transaction, bounds and role are
 * as they were (a function can change a setting where no lexer sees it).
 */

/** Settings the step relies on: its server-side bounds, its role, its view of rows. */
export const GUARDED_SETTINGS = [
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'idle_session_timeout',
  'transaction_timeout',
  'role',
  'session_authorization',
  'row_security',
] as const;

const TRANSACTION_CONTROL = new Set(['begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release']);

const word = (t: SqlToken | undefined): string | undefined => (t?.kind === 'word' ? t.text.toLowerCase() : undefined);

function guardedName(name: string): boolean {
  return (GUARDED_SETTINGS as readonly string[]).includes(name) || name.startsWith('tandem.');
}

/** SET/RESET at `i` (the SET or RESET word): a problem when it names a guarded setting. */
function settingProblem(tokens: readonly SqlToken[], i: number): string | null {
  const verb = word(tokens[i])!.toUpperCase();
  let j = i + 1;
  if (['local', 'session'].includes(word(tokens[j]) ?? '') && word(tokens[j + 1]) !== 'characteristics') {
    if (word(tokens[j]) === 'session' && word(tokens[j + 1]) === 'authorization')
      return `${verb} SESSION AUTHORIZATION changes the step's role`;
    j++;
  }
  const first = word(tokens[j]);
  if (first === undefined) return null;
  if (first === 'session' && word(tokens[j + 1]) === 'authorization')
    return `${verb} SESSION AUTHORIZATION changes the step's role`;
  if (first === 'all')
    return `${verb} ALL resets the step's bounds (statement_timeout, lock_timeout, idle_in_transaction_session_timeout)`;
  // A dotted name (tandem.backfill).
  const name = tokens[j + 1]?.text === '.' && word(tokens[j + 2]) ? `${first}.${word(tokens[j + 2])}` : first;
  return guardedName(name) ? `${verb} ${name} changes a setting the step's bounds or role rely on` : null;
}

/** set_config(name, ...) at `i`: a problem when the name is guarded, or not a constant Tandem can read. */
function setConfigProblem(tokens: readonly SqlToken[], i: number): string | null {
  if (tokens[i + 1]?.text !== '(') return null;
  const arg = tokens[i + 2];
  const next = tokens[i + 3];
  if (arg?.kind !== 'string' || next?.text !== ',')
    return "set_config() with a setting name that is not a string constant may change the step's bounds or role";
  return guardedName(arg.text.toLowerCase().trim())
    ? `set_config('${arg.text}', ...) changes a setting the step's bounds or role rely on`
    : null;
}

/**
 * Words after which a new statement starts (in a PL/pgSQL body: BEGIN, THEN, ELSE, LOOP). SET and
 * RESET change a setting only as a statement of their own: the SET of an UPDATE, an ON CONFLICT
 * DO UPDATE or an ALTER ... SET names columns or options (a column may be called `role`).
 */
const STATEMENT_STARTS_AFTER = new Set(['begin', 'then', 'else', 'loop']);

function startsStatement(tokens: readonly SqlToken[], i: number): boolean {
  const prev = tokens[i - 1];
  if (prev === undefined) return true;
  if (prev.kind === 'symbol') return prev.text === ';';
  return prev.kind === 'word' && !prev.quoted && STATEMENT_STARTS_AFTER.has(prev.text);
}

/** Anywhere in the tokens: a SET/RESET statement of a guarded setting, or a set_config call. */
function settingsAnywhere(tokens: readonly SqlToken[]): string | null {
  for (let i = 0; i < tokens.length; i++) {
    const w = word(tokens[i]);
    const command = (w === 'set' || w === 'reset') && startsStatement(tokens, i);
    const problem = command ? settingProblem(tokens, i) : w === 'set_config' ? setConfigProblem(tokens, i) : null;
    if (problem) return problem;
  }
  return null;
}

/** A DO block's body (PL/pgSQL): no COMMIT/ROLLBACK, no guarded SET, and the same for every string it may EXECUTE. */
function blockProblem(body: string, depth: number): string | null {
  let tokens: SqlToken[];
  try {
    tokens = lexSql(body);
  } catch {
    return null; // not SQL-lexable as a whole: PostgreSQL's own parse decides, the run-time check stays
  }
  for (const t of tokens) {
    if (t.kind === 'word' && !t.quoted && (t.text === 'commit' || t.text === 'rollback'))
      return `${t.text.toUpperCase()} inside a DO block is transaction control`;
  }
  const setting = settingsAnywhere(tokens);
  if (setting) return `${setting} (inside a DO block)`;
  return stringsProblem(tokens, depth);
}

/**
 * Strings a PL/pgSQL body runs as SQL: the string an EXECUTE starts with (`EXECUTE '...'`), each
 * checked as a statement. Other strings are data (an UPDATE's 'end', a RAISE's 'start'); a string
 * an EXECUTE builds is left to the check after the statement.
 */
function stringsProblem(tokens: readonly SqlToken[], depth: number): string | null {
  if (depth > 4) return null;
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i];
    const prev = tokens[i - 1];
    if (t.kind !== 'string' || prev.kind !== 'word' || prev.quoted || prev.text !== 'execute') continue;
    let inner: SqlToken[];
    try {
      inner = lexSql(t.text);
    } catch {
      continue;
    }
    const problem = statementProblem(inner, depth + 1);
    if (problem) return problem;
  }
  return null;
}

function statementProblem(tokens: readonly SqlToken[], depth: number): string | null {
  const first = word(tokens[0]);
  const quoted = tokens[0]?.kind === 'word' && tokens[0].quoted;
  if (first && !quoted) {
    if (TRANSACTION_CONTROL.has(first))
      return `${first.toUpperCase()} is transaction control, which would end or split the step's own transaction`;
    if (first === 'prepare' && word(tokens[1]) === 'transaction')
      return "PREPARE TRANSACTION is transaction control, which would end the step's own transaction";
    if (first === 'discard') return "DISCARD resets the session, the step's bounds and role included";
    if (first === 'do') {
      for (const t of tokens) {
        if (t.kind !== 'string') continue;
        const problem = blockProblem(t.text, depth + 1);
        if (problem) return problem;
      }
    }
  }
  return settingsAnywhere(tokens);
}

/**
 * Why a raw_sql statement would break its step's transaction or bounds, or null when it would not.
 * A statement the lexer cannot read (an unclosed string or comment) is a problem too.
 */
export function rawSqlProblem(sql: string): string | null {
  let tokens: SqlToken[];
  try {
    tokens = lexSql(sql);
  } catch (err) {
    if (err instanceof SqlLexError) return `it has ${err.message}`;
    throw err;
  }
  if (tokens.some((t) => t.text === ';' && t.kind === 'symbol'))
    return 'it holds a semicolon outside quotes: give each statement as its own list entry';
  return statementProblem(tokens, 0);
}
