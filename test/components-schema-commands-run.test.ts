/**
 * The SchemaChange Commands' own command lines, run exactly as pulumi-command would run them
 * (/bin/sh -c <line>, in the project directory since they set no `dir`, with their `environment`
 * and no DATABASE_URL) against the test PostgreSQL and the real tandem CLI. The CLI gets the URL
 * from the stack's config with `pulumi config --json --show-secrets`: here a stand-in `pulumi` on PATH that answers
 * only that exact question, so a Command that reached its URL any other way fails. Create runs each step; expand's delete undoes expand before contract, and is
 * refused after contract, so even a `pulumi destroy` cannot drop the columns the app lives on.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { freshDatabase, sql } from './db';
import { RecordedResource } from './mocks';
import { runStack } from './stack-run';

const ROOT = path.join(__dirname, '..');
const SPEC = path.join(ROOT, 'migrations', 'split-full-name.yaml');

/** The CLI runs from dist/: build it when a source is newer (a fresh clone builds it in `npm ci`). */
function ensureBuilt(): void {
  const main = path.join(ROOT, 'dist', 'cli', 'main.js');
  const newest = (dir: string): number =>
    fs
      .readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true } as any)
      .filter((e: any) => e.isFile() && e.name.endsWith('.ts'))
      .reduce((m: number, e: any) => Math.max(m, fs.statSync(path.join(e.parentPath ?? e.path, e.name)).mtimeMs), 0);
  const built = fs.existsSync(main) ? fs.statSync(main).mtimeMs : 0;
  if (built < Math.max(newest('cli'), newest('executor'), newest('phases'))) {
    try {
      execFileSync(
        process.execPath,
        [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
        { cwd: ROOT, stdio: 'pipe' },
      );
    } catch {
      // tsc emits despite type errors elsewhere in the tree; the CLI runs below tell whether it works.
    }
  }
}

/** A stand-in `pulumi` that prints the stack's config, as `pulumi config --json --show-secrets` does, for exactly the stack organization/tandem/test. */
function fakePulumi(url: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-fake-pulumi-'));
  const expected = 'config --json --show-secrets --stack organization/tandem/test --non-interactive';
  const config = JSON.stringify({ 'tandem:databaseUrl': { value: url, secret: true } });
  fs.writeFileSync(
    path.join(dir, 'pulumi'),
    `#!/bin/sh\nif [ "$*" = ${JSON.stringify(expected)} ]; then printf '%s\\n' '${config}'; else echo "unexpected: pulumi $*" >&2; exit 3; fi\n`,
    { mode: 0o755 },
  );
  return dir;
}

let pulumiDir = '';

async function commandsFor(databaseUrl: string): Promise<Record<string, RecordedResource>> {
  pulumiDir = fakePulumi(databaseUrl);
  const run = await runStack('contract', SPEC, { databaseUrl, migratorRole: new URL(databaseUrl).username });
  const commands = run.recorder.all.filter((r) => r.type === 'command:local:Command');
  return Object.fromEntries(commands.map((c) => [c.name.replace('split-full-name-', ''), c]));
}

/** Run one of a Command's lines as pulumi-command does. */
function runLine(command: RecordedResource, which: 'create' | 'delete'): { status: number | null; output: string } {
  expect(command.inputs.dir).toBeUndefined();
  const r = spawnSync('/bin/sh', ['-c', command.inputs[which]], {
    cwd: ROOT,
    env: {
      ...process.env,
      PATH: `${pulumiDir}${path.delimiter}${process.env.PATH}`,
      DATABASE_URL: undefined,
      ...command.inputs.environment,
    },
    encoding: 'utf8',
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

async function columns(url: string): Promise<string[]> {
  const rows = await sql(
    url,
    `SELECT column_name FROM information_schema.columns WHERE table_name = 'customers' AND column_name NOT LIKE '\\_tandem%' ORDER BY ordinal_position`,
  );
  return rows.map((r) => r.column_name);
}

async function customersDb(): Promise<string> {
  const url = await freshDatabase('cmd');
  await sql(
    url,
    `CREATE TABLE customers (id serial PRIMARY KEY, full_name text);
    INSERT INTO customers (full_name) VALUES ('Ada Lovelace'), ('Alan Turing'), ('John Vin');`,
  );
  return url;
}

beforeAll(ensureBuilt, 120_000);

it("runs expand, backfill, verify and contract in order; then the contract and expand Commands' deletes are refused", async () => {
  const url = await customersDb();
  const cmds = await commandsFor(url);
  for (const step of ['expand', 'backfill', 'verify', 'contract']) {
    const r = runLine(cmds[step], 'create');
    expect({ step, status: r.status }).toEqual({ step, status: 0 });
    if (step === 'expand') expect(await columns(url)).toEqual(['id', 'full_name', 'first_name', 'last_name']);
  }
  expect(await columns(url)).toEqual(['id', 'first_name', 'last_name']);
  const undoContract = runLine(cmds.contract, 'delete');
  expect(undoContract.status).toBe(1);
  expect(undoContract.output).toContain('cannot be undone');
  const rollback = runLine(cmds.expand, 'delete');
  expect(rollback.status).toBe(1);
  expect(await columns(url)).toEqual(['id', 'first_name', 'last_name']);
  expect(await sql(url, `SELECT first_name, last_name FROM customers ORDER BY id`)).toEqual([
    { first_name: 'Ada', last_name: 'Lovelace' },
    { first_name: 'Alan', last_name: 'Turing' },
    { first_name: 'John', last_name: 'Vin' },
  ]);
});

it("before contract, the expand Command's delete undoes expand and keeps the old column's data", async () => {
  const url = await customersDb();
  const cmds = await commandsFor(url);
  expect(runLine(cmds.expand, 'create').status).toBe(0);
  expect(runLine(cmds.backfill, 'create').status).toBe(0);
  expect(runLine(cmds.expand, 'delete').status).toBe(0);
  expect(await columns(url)).toEqual(['id', 'full_name']);
  expect((await sql(url, `SELECT full_name FROM customers ORDER BY id`)).map((r) => r.full_name)).toEqual([
    'Ada Lovelace',
    'Alan Turing',
    'John Vin',
  ]);
});

it('running create again (what an in-place update does) is idempotent', async () => {
  const url = await customersDb();
  const cmds = await commandsFor(url);
  expect(runLine(cmds.expand, 'create').status).toBe(0);
  expect(runLine(cmds.expand, 'create').status).toBe(0);
  expect(runLine(cmds.backfill, 'create').status).toBe(0);
  expect(runLine(cmds.backfill, 'create').status).toBe(0);
  expect(await columns(url)).toEqual(['id', 'full_name', 'first_name', 'last_name']);
});

it('a Command whose stack config cannot be read fails with one sentence naming the key and the stack', async () => {
  const url = await customersDb();
  const cmds = await commandsFor(url);
  fs.writeFileSync(
    path.join(pulumiDir, 'pulumi'),
    '#!/bin/sh\necho "error: no stack named organization/tandem/test found" >&2; exit 255\n',
    { mode: 0o755 },
  );
  const r = runLine(cmds.expand, 'create');
  expect(r.status).toBe(2);
  expect(r.output).toContain(
    'could not read tandem:databaseUrl of stack organization/tandem/test with pulumi config: error: no stack named',
  );
  expect(await columns(url)).toEqual(['id', 'full_name']);
});
