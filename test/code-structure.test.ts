import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

/** Functions (declarations, methods, arrows) longer than `max` lines in the .ts files of `dir`. */
function longFunctions(dir: string, max: number): string[] {
  const long: string[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const full = path.join(dir, file);
    const src = ts.createSourceFile(full, fs.readFileSync(full, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
        const first = src.getLineAndCharacterOfPosition(node.getStart()).line;
        const last = src.getLineAndCharacterOfPosition(node.getEnd()).line;
        const name = (node as ts.FunctionLikeDeclaration).name?.getText(src) ?? '(anonymous)';
        if (last - first + 1 > max) long.push(`${file}:${first + 1} ${name} (${last - first + 1} lines)`);
      }
      ts.forEachChild(node, visit);
    };
    visit(src);
  }
  return long;
}

describe('executor/, automation/ and rehearsal/ keep their functions small (no function longer than 80 lines, as formatted)', () => {
  it.each(['executor', 'automation', 'rehearsal'])('no function in %s/ is longer than 80 lines', (dir) => {
    expect(longFunctions(path.join(__dirname, '..', dir), 80)).toEqual([]);
  });

  it('the measure finds a long function (it would have named rehearseGeneric at 312 lines)', () => {
    expect(longFunctions(path.join(__dirname, '..', 'rehearsal'), 40).length).toBeGreaterThan(0);
  });
});

describe('rehearsal/ has one entry point and one driver', () => {
  const dir = path.join(__dirname, '..', 'rehearsal');
  const importsOf = (file: string) =>
    [...fs.readFileSync(path.join(dir, file), 'utf8').matchAll(/from '\.\/([a-z-]+)'/g)].map((m) => m[1]);

  it('no module of rehearsal/ imports the entry point rehearse.ts (the workloads do not call back into it)', () => {
    const importers = fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && importsOf(f).includes('rehearse'));
    expect(importers).toEqual([]);
  });

  it("the stages are walked in one place: only run-rehearsal.ts calls the executor's expand, backfill and contract", () => {
    const callers = fs
      .readdirSync(dir)
      .filter(
        (f) =>
          f.endsWith('.ts') &&
          /\b(expand|backfill|contract)\(this\.spec|\bfrom '\.\.\/executor'/.test(
            fs.readFileSync(path.join(dir, f), 'utf8'),
          ),
      );
    expect(callers).toEqual(['run-rehearsal.ts']);
  });
});
