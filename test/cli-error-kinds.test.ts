import * as fs from 'fs';
import * as path from 'path';
import { ERROR_KINDS, isErrorKind, TandemError } from '../phases/errors';
import { errorJson } from '../cli/outcome';
import { LockTimeoutError } from '../executor/errors';
import { BackfillStoppedError, RowsHeldError } from '../executor/backfill-errors';
import { RehearsalStoppedError } from '../rehearsal/rehearsal-errors';
import { MigrationPositionError } from '../phases/deploy/migration-stage';
import { UnsafeMoveBackError } from '../phases/deploy/walk-path';
import { RoleCheckError } from '../phases/sql/role-check';

/**
 * Every error Tandem throws is a TandemError with a kind from the closed list, and docs/cli.md
 * lists exactly those kinds. The classes are found by reading the source, so a new error class
 * is checked the day it is written.
 */

const ROOT = path.join(__dirname, '..');
const SOURCE_DIRS = ['phases', 'executor', 'automation', 'cli', 'rehearsal', 'components', 'lib'];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** `class X extends Y` where X is an error class by name or by what it extends, per file. */
function declaredErrorClasses(): { file: string; name: string }[] {
  const found: { file: string; name: string }[] = [];
  for (const file of SOURCE_DIRS.flatMap((d) => sourceFiles(path.join(ROOT, d)))) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?<!abstract )class (\w+) extends (\w+)/g)) {
      if (/Error$/.test(m[1]) || /Error$/.test(m[2])) found.push({ file, name: m[1] });
    }
  }
  return found;
}

/** A value that survives whatever a constructor does with an argument: index it, call it, join it, print it. */
function anything(): any {
  const target = function () {} as any;
  const proxy: any = new Proxy(target, {
    get: (_t, key) => {
      if (key === Symbol.toPrimitive) return (hint: string) => (hint === 'number' ? 1 : 'x');
      if (key === Symbol.iterator)
        return function* () {
          yield 'x';
        };
      if (key === 'length') return 1;
      return proxy;
    },
    apply: () => proxy,
  });
  return proxy;
}

function construct(cls: new (...args: any[]) => unknown): unknown {
  return new cls(anything(), anything(), anything(), anything(), anything(), anything());
}

describe('error kinds: one base, one closed list', () => {
  const declared = declaredErrorClasses();

  it('finds the error classes in the source (the scan itself works)', () => {
    expect(declared.map((d) => d.name)).toEqual(
      expect.arrayContaining([
        'SpecError',
        'RefusedError',
        'LockTimeoutError',
        'BackfillStoppedError',
        'RowsHeldError',
        'RoleCheckError',
        'UnsafeMoveBackError',
        'MigrationPositionError',
        'PulumiMissingError',
      ]),
    );
  });

  it.each(declared.map((d) => [d.name, path.relative(ROOT, d.file)] as const))(
    '%s (%s) is an exported TandemError with a listed kind and exit code 1 or 2',
    (name, file) => {
      const mod = require(path.join(ROOT, file));
      const cls = mod[name];
      expect({ name, exported: typeof cls === 'function' }).toEqual({ name, exported: true });
      const err = construct(cls) as TandemError;
      expect({ name, isTandemError: err instanceof TandemError }).toEqual({ name, isTandemError: true });
      expect({ name, kind: err.kind, listed: isErrorKind(err.kind) }).toEqual({ name, kind: err.kind, listed: true });
      expect({ name, exitCode: [1, 2].includes(err.exitCode) }).toEqual({ name, exitCode: true });
    },
  );

  it('docs/cli.md lists exactly the kinds of phases/errors.ts, each with its exit code', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'cli.md'), 'utf8');
    const table = doc.slice(doc.indexOf('## Error kinds'));
    const documented = [...table.matchAll(/^\| `(\w+)` \| ([\d/]+) \|/gm)].map((m) => m[1]);
    expect(documented).toEqual([...ERROR_KINDS]);
  });

  it('an error that is no TandemError prints as internal, without PostgreSQL internals', () => {
    const pgError = Object.assign(new Error('value "99999999999" is out of range for type integer'), {
      code: '22003',
      severity: 'ERROR',
      file: 'numutils.c',
      line: '123',
      routine: 'pg_strtoint32',
    });
    expect(errorJson(pgError, pgError.message)).toEqual({
      kind: 'internal',
      message: pgError.message,
      sqlstate: '22003',
    });
  });
});

describe('the errors the issue found reported as internal now carry their own kind and names', () => {
  it.each([
    [
      new BackfillStoppedError(
        '12 other backends are active (more than 10)',
        'public.customers',
        40,
        'tandem backfill x.yaml',
        'split',
      ),
      { kind: 'backfill_stopped', table: 'public.customers', rowsDone: 40, migration: 'split' },
    ],
    [
      new RowsHeldError('public.customers', [['7']], 30, undefined),
      { kind: 'rows_held', table: 'public.customers', keys: [['7']] },
    ],
    [
      new RoleCheckError([{ kind: 'app', role: 'app', code: 'missing', message: 'app role "app" does not exist' }]),
      { kind: 'role_check', problems: [expect.objectContaining({ code: 'missing' })] },
    ],
    [
      new UnsafeMoveBackError('contract', 'cleanup', 'the old columns are gone'),
      { kind: 'unsafe_move_back', from: 'contract', to: 'cleanup' },
    ],
    [new MigrationPositionError(3, 2), { kind: 'migration_position', migration: 3, count: 2 }],
    [
      new RehearsalStoppedError('expand', new LockTimeoutError('public.customers', 3, [])),
      { kind: 'lock_timeout', stage: 'expand' },
    ],
    [
      new RehearsalStoppedError('dual-write', new Error('socket hang up')),
      { kind: 'rehearsal_stopped', stage: 'dual-write' },
    ],
  ])('%s', (err, expected) => {
    const json = errorJson(err, err.message);
    expect(json).toMatchObject({ ...expected, message: err.message });
    expect(json).not.toHaveProperty('cause');
  });
});
