import * as fs from 'fs';
import * as path from 'path';
import { Client } from 'pg';
import { backfill, contract, expand, rollback, verify } from '../executor';
import { MigrationSpec } from '../phases/sql/spec';
import { loadSpecFile } from '../executor/spec-file';
import { enumLabels, snapshotCatalogTable, TableShape } from './catalog-snapshot';
import { freshDatabase } from './db';
import { EXAMPLES, PgrollExample, WRITERS } from './pgroll-corpus-examples';

/**
 * pgroll's example corpus, 01..56 without 04_rename_table (refused, see docs/pgroll.md), each as
 * Tandem specs under migrations/pgroll/, run in order on one database: expand, backfill, verify,
 * contract, with an old version writing (an insert and an update per table the example touches,
 * through the columns that version knows) before each step. Nothing may fail, no row may be lost
 * or changed (except where the example's own `up` rewrites it), and the catalog of each table the
 * example touches must end as pgroll's example means it to (test/pgroll-corpus-examples.ts).
 *
 * An example that needs a feature Tandem does not have yet is listed in PENDING_FEATURES with
 * that feature and the failure it causes today: it still runs, as test.failing, which passes
 * only while it fails that way. When the feature lands, the example passes or fails otherwise
 * (the next missing feature, or a bug), its test.failing fails, and the entry must change. When an
 * example fails, whatever it expanded is rolled back and its plain DDL stands in for it, so the
 * examples after it run on the schema they expect.
 */
/**
 * Each feature Tandem does not have yet, with the failure it causes today (a name -> a RegExp of
 * the failure's message). None today: every example runs as written.
 */
const FEATURES: Readonly<Record<string, RegExp>> = {};
type Feature = string;

/**
 * The examples that wait for features, with every feature each one needs: it is pending while it
 * fails for any of them.
 */
const PENDING_FEATURES: Readonly<Record<string, readonly Feature[]>> = {};

/** The pending feature an example's failure shows, if it is one the example waits for. */
function pendingCause(id: string, message: string): Feature | undefined {
  return (PENDING_FEATURES[id] ?? []).find((f) => FEATURES[f].test(message));
}

const SPECS = path.join(__dirname, '..', 'migrations', 'pgroll');

interface WrittenRow {
  table: string;
  key: Record<string, string>;
  /** Column -> the SQL literal last written there. */
  values: Record<string, string>;
}

interface Outcome {
  id: string;
  passed: boolean;
  reason?: string;
  standIn?: string;
}

let url: string;
let client: Client;
let counter = 1000;
/** Every row an old version wrote, per table, while the table exists. */
const written = new Map<string, WrittenRow[]>();
/** The schema the examples mean, table by table, as they have run so far. */
const model = new Map<string, TableShape | null>();
const outcomes: Outcome[] = [];

const qi = (s: string) => `"${s.replace(/"/g, '""')}"`;
const options = () => ({ databaseUrl: url, lockTimeoutMs: 500 });

async function liveColumns(table: string): Promise<string[] | null> {
  const r = await client.query(
    `SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE c.relnamespace = 'public'::regnamespace AND c.relname = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attname NOT LIKE '\\_tandem%'`,
    [table],
  );
  const exists =
    (
      await client.query(
        `SELECT 1 FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname = $1 AND relkind = 'r'`,
        [table],
      )
    ).rows.length > 0;
  return exists ? r.rows.map((x) => x.attname) : null;
}

const whereKey = (key: Record<string, string>) => {
  const cols = Object.keys(key);
  return { sql: cols.map((c, i) => `${qi(c)}::text = $${i + 1}`).join(' AND '), values: cols.map((c) => key[c]) };
};

/**
 * One round of an old version's writes: into each table it knows (with the columns it knows), an
 * insert, and an update of the row it inserted last round. Any failure is the test's failure.
 */
async function oldVersionWrites(known: Map<string, string[]>, stage: string, mine: WrittenRow[]): Promise<void> {
  for (const [table, columns] of known) {
    const writer = WRITERS[table];
    if (!writer) throw new Error(`no old-version writer for table ${table} (add one to WRITERS)`);
    const k = counter++;
    const cols = columns.filter((c) => writer.values[c]);
    const exprs = cols.map((c) => writer.values[c](k));
    let returned: Record<string, unknown>;
    try {
      if (writer.before) await client.query(writer.before(k));
      const r = await client.query(
        `INSERT INTO ${qi(table)} (${cols.map(qi).join(', ')}) VALUES (${exprs.join(', ')}) RETURNING ${writer.key.map((c) => `${qi(c)}::text AS ${qi(c)}`).join(', ')}`,
      );
      returned = r.rows[0];
    } catch (err: any) {
      throw new Error(`an old version's INSERT into ${table} failed ${stage}: ${err.message}`, { cause: err });
    }
    const literal = (c: string, e: string) => !writer.key.includes(c) && !e.startsWith('(');
    const row: WrittenRow = {
      table,
      key: Object.fromEntries(writer.key.map((c) => [c, String(returned[c])])),
      values: Object.fromEntries(cols.map((c, i) => [c, exprs[i]]).filter(([c, e]) => literal(c, e))),
    };
    const previous = [...mine].reverse().find((w) => w.table === table);
    mine.push(row);
    written.set(table, [...(written.get(table) ?? []), row]);
    if (!previous) continue;
    const u = counter++;
    // Every literal column this version knows, also one the row's insert (by the example's previous
    // spec) did not know: a column that took another's place (`into`) is written with the others.
    const sets = cols.filter((c) => literal(c, writer.values[c](u)));
    if (sets.length === 0) continue;
    const where = whereKey(previous.key);
    try {
      if (writer.before) await client.query(writer.before(u));
      await client.query(
        `UPDATE ${qi(table)} SET ${sets.map((c) => `${qi(c)} = ${writer.values[c](u)}`).join(', ')} WHERE ${where.sql}`,
        where.values,
      );
    } catch (err: any) {
      throw new Error(`an old version's UPDATE of ${table} failed ${stage}: ${err.message}`, { cause: err });
    }
    // A column the row's insert did not know replaces one it wrote (its old name): what the row holds
    // now is what this write set, under the names this version knows.
    if (sets.some((c) => previous.values[c] === undefined))
      for (const c of Object.keys(previous.values)) if (!cols.includes(c)) delete previous.values[c];
    for (const c of sets) previous.values[c] = writer.values[c](u);
  }
}

/** Every row written to the example's tables is still there; this example's rows hold what was written. */
async function checkNothingLost(ex: PgrollExample, mine: WrittenRow[]): Promise<void> {
  const problems: string[] = [];
  for (const table of Object.keys(ex.touch)) {
    const columns = await liveColumns(table);
    if (!columns) continue;
    for (const row of written.get(table) ?? []) {
      const where = whereKey(row.key);
      const checks = mine.includes(row)
        ? Object.entries(row.values).filter(
            ([c]) => columns.includes(c) && !(ex.rewrites ?? []).includes(`${table}.${c}`),
          )
        : [];
      const r = await client.query(
        `SELECT ${['true AS present', ...checks.map(([c, v], i) => `${qi(c)} IS NOT DISTINCT FROM ${v} AS c${i}`)].join(', ')} FROM ${qi(table)} WHERE ${where.sql}`,
        where.values,
      );
      if (r.rows.length === 0) {
        problems.push(`${table} row ${JSON.stringify(row.key)} is gone`);
        continue;
      }
      checks.forEach(([c, v], i) => {
        if (!r.rows[0][`c${i}`]) problems.push(`${table} row ${JSON.stringify(row.key)}: ${c} no longer holds ${v}`);
      });
    }
  }
  if (problems.length) throw new Error(`old versions' writes were lost or changed:\n  ${problems.join('\n  ')}`);
}

async function checkCatalog(ex: PgrollExample, expected: Map<string, TableShape | null>): Promise<void> {
  for (const [table, shape] of expected) {
    const actual = await snapshotCatalogTable(client, table);
    try {
      expect(actual).toEqual(shape);
    } catch (err: any) {
      throw new Error(`the catalog of table ${table} is not what ${ex.id} means it to be:\n${err.message}`, {
        cause: err,
      });
    }
  }
  for (const [type, labels] of Object.entries(ex.types ?? {})) {
    const actual = await enumLabels(client, type);
    if (JSON.stringify(actual) !== JSON.stringify(labels))
      throw new Error(`type ${type} has labels ${JSON.stringify(actual)}, not ${JSON.stringify(labels)}`);
  }
}

async function runSpec(spec: MigrationSpec, ex: PgrollExample, mine: WrittenRow[]): Promise<void> {
  const known = new Map<string, string[]>();
  for (const table of Object.keys(ex.touch)) {
    const columns = await liveColumns(table);
    if (columns) known.set(table, columns);
  }
  const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err: any) {
      throw new Error(`${spec.name}: ${name} failed: ${err.message}`, { cause: err });
    }
  };
  await oldVersionWrites(known, 'before expand', mine);
  await step('expand', () => expand(spec, options()));
  await oldVersionWrites(known, 'after expand', mine);
  await step('backfill', () => backfill(spec, options()));
  await oldVersionWrites(known, 'after backfill', mine);
  const report = await step('verify', () => verify(spec, options()));
  if (!report.ok) throw new Error(`${spec.name}: verify is not ok: ${JSON.stringify(report)}`);
  await oldVersionWrites(known, 'after verify', mine);
  await step('contract', () => contract(spec, options()));
}

async function runExample(ex: PgrollExample): Promise<void> {
  const expected = new Map(Object.entries(ex.touch).map(([t, next]) => [t, next(model.get(t) ?? null)]));
  for (const [t, shape] of expected) model.set(t, shape);
  const mine: WrittenRow[] = [];
  let contracted = 0;
  let current: MigrationSpec | undefined;
  try {
    for (const file of ex.specs) {
      current = undefined;
      current = loadSpecFile(path.join(SPECS, file));
      await runSpec(current, ex, mine);
      contracted++;
      await checkNothingLost(ex, mine);
    }
    await checkCatalog(ex, expected);
    outcomes.push({ id: ex.id, passed: true });
  } catch (err: any) {
    const outcome: Outcome = {
      id: ex.id,
      passed: false,
      reason: String(err.message).split('\n').slice(0, 3).join(' / '),
    };
    outcome.standIn = await standIn(ex, current, contracted);
    outcomes.push(outcome);
    throw err;
  } finally {
    for (const [t, shape] of expected) if (shape === null) written.delete(t);
  }
}

/**
 * Roll back what the failed spec expanded, then reach the example's end with its plain DDL (from
 * where the example began, or, when its first spec completed, from there).
 */
async function standIn(ex: PgrollExample, spec: MigrationSpec | undefined, contracted: number): Promise<string> {
  if (contracted === ex.specs.length) return 'every spec completed: the schema stays as they left it';
  const sql = contracted === 0 ? ex.sql : ex.afterFirstSpec;
  if (sql === undefined) return 'no plain DDL for the state it stopped in';
  if (spec) {
    try {
      await rollback(spec, { ...options(), force: true });
    } catch {
      // nothing expanded (expand refused): nothing to roll back
    }
  }
  try {
    await client.query(sql);
    return contracted === 0 ? 'plain DDL stood in' : "plain DDL from the first spec's end stood in";
  } catch (err: any) {
    return `the plain DDL failed too: ${err.message}`;
  }
}

describe('pgroll example corpus, in order on one database', () => {
  beforeAll(async () => {
    url = await freshDatabase('pgroll');
    client = new Client({ connectionString: url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    const lines = outcomes.map((o) => {
      const cause = o.passed ? undefined : pendingCause(o.id, o.reason ?? '');
      const state = o.passed ? 'pass' : cause ? `PENDING (${cause})` : 'FAIL';
      return `${o.id.padEnd(52)} ${state}${o.passed ? '' : `\n      ${o.reason}${o.standIn ? ` [${o.standIn}]` : ''}`}`;
    });
    const passed = outcomes.filter((o) => o.passed).length;
    console.log(`pgroll corpus: ${passed} of ${outcomes.length} examples pass\n${lines.join('\n')}`);
  });

  for (const ex of EXAMPLES) {
    const pending = PENDING_FEATURES[ex.id];
    const name = `${ex.id}: ${ex.specs.join(' + ')}${pending ? ` (pending: ${pending.join(', ')})` : ''}`;
    if (!pending) {
      test(name, () => runExample(ex));
      continue;
    }
    test.failing(name, async () => {
      try {
        await runExample(ex);
      } catch (err: any) {
        if (pendingCause(ex.id, err.message)) throw err;
        // Returning makes test.failing fail: the example no longer fails for a feature it waits for.
        console.error(
          `${ex.id} is listed as pending on ${pending.join(', ')} but fails otherwise; fix it or update PENDING_FEATURES:\n${err.message}`,
        );
        return;
      }
      console.error(`${ex.id} passes now: remove it from PENDING_FEATURES`);
    });
  }

  it('after the last example, every row an old version wrote is still there (tables the corpus dropped excepted)', async () => {
    expect(written.size).toBeGreaterThan(0);
    const gone: string[] = [];
    for (const [table, rows] of written) {
      for (const row of rows) {
        const where = whereKey(row.key);
        if ((await client.query(`SELECT 1 FROM ${qi(table)} WHERE ${where.sql}`, where.values)).rows.length === 0)
          gone.push(`${table} ${JSON.stringify(row.key)}`);
      }
    }
    expect(gone).toEqual([]);
  });

  it('PENDING_FEATURES names only examples of the corpus', () => {
    expect(Object.keys(PENDING_FEATURES).filter((id) => !EXAMPLES.some((e) => e.id === id))).toEqual([]);
    expect(Object.values(PENDING_FEATURES).every((features) => features.length > 0)).toBe(true);
  });

  it('runs every spec in migrations/pgroll/, each in one example', () => {
    const listed = EXAMPLES.flatMap((e) => e.specs);
    expect([...listed].sort()).toEqual(
      fs
        .readdirSync(SPECS)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    );
    expect(new Set(listed).size).toBe(listed.length);
  });
});

describe("the corpus's expectations, checked against PostgreSQL itself", () => {
  it("each example's plain DDL, run in order, leaves exactly the schema the example is expected to", async () => {
    const db = await freshDatabase('pgrollddl');
    const c = new Client({ connectionString: db });
    await c.connect();
    const shapes = new Map<string, TableShape | null>();
    const problems: string[] = [];
    try {
      for (const ex of EXAMPLES) {
        await c.query(ex.sql);
        for (const [table, next] of Object.entries(ex.touch)) {
          const want = next(shapes.get(table) ?? null);
          shapes.set(table, want);
          const got = await snapshotCatalogTable(c, table);
          try {
            expect(got).toEqual(want);
          } catch (err: any) {
            problems.push(`${ex.id} ${table}: ${err.message}`);
          }
        }
        for (const [type, labels] of Object.entries(ex.types ?? {})) {
          if (JSON.stringify(await enumLabels(c, type)) !== JSON.stringify(labels))
            problems.push(`${ex.id} type ${type}`);
        }
      }
    } finally {
      await c.end();
    }
    expect(problems).toEqual([]);
  });
});
