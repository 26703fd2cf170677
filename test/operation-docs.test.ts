import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { OPERATION_KINDS } from '../phases/sql/operations';

// Adding an operation touches its own file, its example, its docs page and its test
// (docs/architecture.md): the page and the example are checked here for every registered kind.
const ROOT = path.join(__dirname, '..');
const DOCS = path.join(ROOT, 'docs', 'operations');
const REFUSED = new Set(['rename_table']);

function kindsInExamples(): Set<string> {
  const kinds = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.yaml')) {
        const spec = parse(fs.readFileSync(full, 'utf8')) as { operations?: Record<string, unknown>[] };
        for (const op of spec.operations ?? []) for (const kind of Object.keys(op)) kinds.add(kind);
      }
    }
  };
  walk(path.join(ROOT, 'migrations'));
  return kinds;
}

describe('every operation has its docs page and an example spec', () => {
  const index = fs.readFileSync(path.join(DOCS, 'README.md'), 'utf8');
  const examples = kindsInExamples();

  it.each(OPERATION_KINDS)('%s: docs/operations/%s.md exists and the index links it', (kind) => {
    expect(fs.existsSync(path.join(DOCS, `${kind}.md`))).toBe(true);
    expect(index).toContain(`(${kind}.md)`);
  });

  it.each(OPERATION_KINDS.filter((k) => !REFUSED.has(k)))('%s: some spec in migrations/ uses it', (kind) => {
    expect(examples.has(kind)).toBe(true);
  });

  it('the index lists no page without an operation', () => {
    const linked = [...index.matchAll(/\(([a-z_]+)\.md\)/g)].map((m) => m[1]);
    expect(linked.filter((k) => !(OPERATION_KINDS as readonly string[]).includes(k))).toEqual([]);
  });
});
