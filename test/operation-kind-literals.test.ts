import * as fs from 'fs';
import * as path from 'path';
import { OPERATION_KINDS } from '../phases/sql/operations';

/**
 * An operation's kind appears only in its own file and the registry (phases/sql/operations/):
 * everywhere else the code asks the operation (its declared facts and plan slots), so adding an
 * operation touches its own file, its example, its docs page and its test, nothing else.
 * Scanned: every source file of the repository except dependencies and builds (node_modules,
 * dist), phases/sql/operations/ itself, and what is not code: docs/, migrations/ and test/
 * (tests name operations as specs and their cases do, by keyword).
 */
const ROOT = path.join(__dirname, '..');
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'docs', 'migrations', 'test', 'schema']);
const SKIP_PATHS = [path.join('phases', 'sql', 'operations')];
const SOURCE = /\.(ts|tsx|js|mjs|cjs)$/;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const rel = path.relative(ROOT, full);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      if (SKIP_DIRS.has(entry.name) || entry.name.startsWith('.') || SKIP_PATHS.includes(rel)) continue;
      sourceFiles(full, out);
    } else if (SOURCE.test(entry.name)) out.push(rel);
  }
  return out;
}

/** Every quote-delimited operation kind ('split_column', "raw_sql", `add_check`) in the text, with its line. */
export function kindLiterals(text: string, kinds: readonly string[]): { line: number; literal: string }[] {
  const literal = new RegExp(`(['"\`])(${kinds.join('|')})\\1`, 'g');
  const found: { line: number; literal: string }[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(literal)) found.push({ line: i + 1, literal: m[0] });
  });
  return found;
}

describe('operation kind literals', () => {
  it('finds a quoted kind and ignores one inside a longer word', () => {
    expect(
      kindLiterals(
        `if (k === 'split_column') x("raw_sql"); y = 'split_columns'; z = 'split_column_x'`,
        OPERATION_KINDS,
      ).map((f) => f.literal),
    ).toEqual(["'split_column'", '"raw_sql"']);
  });

  it('no source file outside phases/sql/operations/ names an operation kind', () => {
    const files = sourceFiles(ROOT);
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.flatMap((file) =>
      kindLiterals(fs.readFileSync(path.join(ROOT, file), 'utf8'), OPERATION_KINDS).map(
        (f) => `${file}:${f.line} ${f.literal}`,
      ),
    );
    expect(offenders).toEqual([]);
  });
});
