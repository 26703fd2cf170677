import * as fs from 'fs';
import * as path from 'path';
import { Client } from 'pg';
import { backfill, contract, expand, rollback, validateLive, verify } from '../executor';
import { ErrorKind } from '../phases/errors';
import { syncsColumns } from '../phases/sql/carrier';
import { MigrationSpec, needsBackfill, parseSpec } from '../phases/sql/spec';
import { freshDatabase, withClient } from './db';
import { snapshotSchema } from './object-snapshot';
import { columnNames, snapshotTable } from './table-snapshot';

/**
 * One table-driven harness for every operation, in the manner of pgroll's: each case runs
 * start (expand + backfill) -> rollback -> start -> complete (contract) on a real PostgreSQL while
 * an old app version keeps writing through the old columns, during each phase and between them.
 * The harness makes the checks every operation owes (rollback restores the schema and every row
 * exactly; expand and contract are idempotent; verify holds before contract; nothing of Tandem is
 * left after complete; no old-version write fails); a case adds its own checks in per-phase hooks,
 * and may expect an error of a given kind at a given phase instead of going on.
 */

export type Phase = 'start' | 'rollback' | 'restart' | 'complete';

/** What an old app version keeps writing: it runs on the migrated database and, the same writes, on an untouched twin. */
export interface OldWriter {
  /** The table it writes (default: the spec's table). */
  readonly table?: string;
  /** The i-th insert (i from 1), through the old columns only. */
  insert(i: number): string;
  /** An update, through the old columns only, of the row the i-th insert wrote. */
  update(i: number): string;
}

/** A case that stops at a phase with a typed error. */
export interface ExpectedError {
  /** plan: the spec is refused before anything touches the database. */
  readonly phase: 'plan' | 'start' | 'complete';
  readonly kind: ErrorKind;
  readonly message?: RegExp;
}

export interface OperationCase {
  readonly name: string;
  /** The migrations/ example this case runs, when it is one; else `spec`. */
  readonly example?: string;
  readonly spec?: string;
  /** SQL that creates the tables and rows before the migration. */
  readonly setup: string;
  readonly oldWriter: OldWriter;
  /** Columns of the spec's table after start, in order; with them the harness checks the sync triggers. */
  readonly expanded?: string[];
  /** Columns of the spec's table after complete, in order. */
  readonly contracted?: string[];
  /** One write of each app version after the restart, before its backfill (the hooks check what they did). */
  readonly oldWrite?: string;
  readonly newWrite?: string;
  /** An old version's write that the new rule refuses after complete: it succeeds while expanded, verify names its key, complete is refused until `fix` runs. */
  readonly ruleBreakingWrite?: { sql: string; key: string; fix: string };
  readonly afterStart?: (c: Client) => Promise<void>;
  readonly afterRollback?: (c: Client) => Promise<void>;
  /** After the restart (and the app versions' writes), before its backfill. */
  readonly whileExpanded?: (c: Client) => Promise<void>;
  readonly afterComplete?: (c: Client) => Promise<void>;
  readonly expectError?: ExpectedError;
  /** Some setup rows break the new rule until `ruleBreakingWrite.fix` runs: verify fails until then. */
  readonly setupBreaksRule?: boolean;
}

export const MIGRATIONS = path.join(__dirname, '..', 'migrations');

export function caseSpec(tc: OperationCase): MigrationSpec {
  return tc.example
    ? parseSpec(fs.readFileSync(path.join(MIGRATIONS, tc.example), 'utf8'), tc.example)
    : parseSpec(tc.spec!, tc.name);
}

export const one = async (c: Client, q: string, v: unknown[] = []) => (await c.query(q, v)).rows[0];
export const count = async (c: Client, q: string) => Number((await c.query(q)).rows[0].n);

/** Every row of every table in public, as text: what rollback must give back. */
async function allRows(c: Client): Promise<Record<string, string>> {
  const tables = (
    await c.query(
      `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY 1`,
    )
  ).rows.map((r) => r.relname as string);
  const out: Record<string, string> = {};
  for (const t of tables)
    out[t] = (await c.query(`SELECT coalesce(json_agg(t ORDER BY t::text)::text, '[]') AS r FROM "${t}" t`)).rows[0].r;
  return out;
}

const tandemFunctions = (c: Client) =>
  count(
    c,
    `SELECT count(*) AS n FROM pg_proc WHERE pronamespace = 'tandem'::regnamespace AND proname <> 'record_actor'`,
  );

/**
 * The old app version: writes one at a time on its own connection, each write applied to the
 * migrated database and then, the same SQL, to the twin that never migrates, so after a rollback
 * the two must hold the same rows. A write that fails is a failure of the migration (an app write
 * never fails because of Tandem).
 */
class OldVersion {
  readonly failures: string[] = [];
  private inserted = 0;
  private updated = 0;
  writes = 0;

  constructor(
    private readonly db: Client,
    private readonly twin: Client,
    private readonly writer: OldWriter,
  ) {}

  /** One insert and, once there is a row of its own, one update of it. */
  async burst(): Promise<void> {
    await this.write(this.writer.insert(++this.inserted));
    if (this.updated < this.inserted) await this.write(this.writer.update(++this.updated));
  }

  /** Keep writing while `step` runs; at least one burst. */
  async during<T>(step: () => Promise<T>): Promise<T> {
    let done = false;
    const running = step().finally(() => {
      done = true;
    });
    const writing = (async () => {
      do {
        await this.burst();
        await new Promise((r) => setTimeout(r, 5));
      } while (!done);
    })();
    const [result] = await Promise.all([running, writing]);
    return result;
  }

  private async write(sql: string): Promise<void> {
    try {
      await this.db.query(sql);
    } catch (err: any) {
      this.failures.push(`${sql}: ${err.message}`);
      return;
    }
    this.writes++;
    await this.twin.query(sql);
  }
}

async function expectKind(p: Promise<unknown>, expected: ExpectedError): Promise<void> {
  const err: any = await p.then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeDefined();
  expect({ kind: err.kind, message: err.message }).toEqual({
    kind: expected.kind,
    message: expected.message ? expect.stringMatching(expected.message) : expect.any(String),
  });
}

/** Run one case through start -> rollback -> start -> complete. */
export async function runOperationCase(tc: OperationCase): Promise<void> {
  if (tc.expectError?.phase === 'plan')
    return expectKind(
      Promise.resolve().then(() => caseSpec(tc)),
      tc.expectError,
    );
  const url = await freshDatabase('ops');
  const twinUrl = await freshDatabase('opstwin');
  const spec = caseSpec(tc);
  const o = { databaseUrl: url, lockTimeoutMs: 500 };
  await withClient(twinUrl, async (twin) => {
    await twin.query(tc.setup);
    await withClient(url, async (c) => {
      await withClient(url, async (writerDb) => {
        await c.query(tc.setup);
        const old = new OldVersion(writerDb, twin, tc.oldWriter);
        await runPhases(tc, spec, o, c, twin, old);
        expect(old.failures).toEqual([]);
        expect(old.writes).toBeGreaterThan(0);
      });
    });
  });
}

type Options = { databaseUrl: string; lockTimeoutMs: number };

async function runPhases(
  tc: OperationCase,
  spec: MigrationSpec,
  o: Options,
  c: Client,
  twin: Client,
  old: OldVersion,
): Promise<void> {
  const original = await snapshotSchema(c);
  const originalTable = await snapshotTable(c, spec.table);
  // A case that expects complete to be refused starts from rows the new rule refuses: verify fails throughout.
  const consistent = tc.expectError?.phase !== 'complete' && !tc.setupBreaksRule;

  // start
  if (tc.expectError?.phase === 'start') return startRefused(tc.expectError, spec, o, c, twin, old, original);
  await old.during(async () => expect((await expand(spec, o)).changed).toBe(true));
  // Whether the rows need a backfill is the plan's to say (recorded at expand, resolved against the live catalog), not the case's.
  const needs = needsBackfill(await validateLive(spec, o));
  await old.burst();
  await old.during(() => backfill(spec, o));
  await checkStarted(tc, spec, o, c, original, consistent);
  await tc.afterStart?.(c);
  await old.burst();

  // rollback: the schema exactly as it was, and every row as the old version's writes left it on the twin
  await old.during(async () => expect((await rollback(spec, o)).step).toBe('rolled_back'));
  await old.burst();
  await checkRolledBack(spec, c, twin, original, originalTable);
  await tc.afterRollback?.(c);

  // start again, with both app versions writing; an idempotent re-run changes nothing
  await old.during(async () => expect((await expand(spec, o)).changed).toBe(true));
  expect((await expand(spec, o)).changed).toBe(false);
  await old.burst();
  if (tc.oldWrite) await c.query(tc.oldWrite);
  if (tc.newWrite) await c.query(tc.newWrite);
  await tc.whileExpanded?.(c);
  // The rows written before this start are not backfilled yet, unless the plan fills no new column from them.
  expect((await verify(spec, o)).ok).toBe(!needs && consistent);
  await old.during(() => backfill(spec, o));
  await old.burst();
  // complete refused: the old versions are gone, the rows are not what the new rule takes
  if (tc.expectError?.phase === 'complete') return completeRefused(tc.expectError, spec, o, c);
  expect(await verify(spec, o)).toMatchObject({ ok: consistent, pendingRows: 0 });
  if (tc.ruleBreakingWrite) await checkRuleBreakingWrite(tc.ruleBreakingWrite, spec, o, c);
  expect(await verify(spec, o)).toMatchObject({ ok: true });

  // complete: the old versions are gone
  expect((await contract(spec, o)).step).toBe('contracted');
  expect((await contract(spec, o)).changed).toBe(false);
  await checkCompleted(tc, spec, c);
  await tc.afterComplete?.(c);
  await expectKind(rollback(spec, o), { phase: 'complete', kind: 'refused', message: /rollback refused/ });
}

async function checkStarted(
  tc: OperationCase,
  spec: MigrationSpec,
  o: Options,
  c: Client,
  original: Record<string, string[]>,
  consistent: boolean,
): Promise<void> {
  // Column work changes the schema at expand (new columns, the sync machinery); a spec of object
  // operations alone installs no sync machinery, so its expand may change nothing yet.
  const started = await snapshotSchema(c);
  if (syncsColumns(await validateLive(spec, o))) expect(started).not.toEqual(original);
  else expect(started.columns.filter((col) => col.includes('_tandem'))).toEqual([]);
  if (tc.expanded) {
    expect(await columnNames(c, spec.table)).toEqual(tc.expanded);
    // The INSERT trigger and per operation an UPDATE OF trigger per side; the one for rows still
    // pending went with the backfill, which left none (test/pending-trigger-drop.test.ts).
    const prefix = `zz_tandem_sync_${spec.name.replace(/-/g, '_')}`;
    const triggers = (await snapshotTable(c, spec.table)).triggers;
    expect(triggers[0]).toBe(prefix);
    expect(triggers.every((t: string) => t.startsWith(prefix))).toBe(true);
    expect(triggers.filter((t: string) => /_zp$/.test(t))).toEqual([]);
  }
  expect(await verify(spec, o)).toMatchObject({ ok: consistent, pendingRows: 0 });
}

async function checkRolledBack(
  spec: MigrationSpec,
  c: Client,
  twin: Client,
  original: Record<string, string[]>,
  originalTable: Awaited<ReturnType<typeof snapshotTable>>,
): Promise<void> {
  expect(await snapshotSchema(c)).toEqual(original);
  const table = await snapshotTable(c, spec.table);
  expect({ ...table, rows: undefined }).toEqual({ ...originalTable, rows: undefined });
  // Only the migration's own functions go; the state table's actor stamp (record_actor) belongs to the state schema.
  expect(await tandemFunctions(c)).toBe(0);
  expect(await allRows(c)).toEqual(await allRows(twin));
}

async function checkRuleBreakingWrite(
  w: NonNullable<OperationCase['ruleBreakingWrite']>,
  spec: MigrationSpec,
  o: Options,
  c: Client,
): Promise<void> {
  await c.query(w.sql);
  const report = await verify(spec, o);
  expect(report.ok).toBe(false);
  const failing = report.operations.filter((x) => x.inconsistentRows > 0);
  expect(failing.length).toBeGreaterThan(0);
  expect(failing.flatMap((x) => x.sampleKeys)).toContain(w.key);
  // The canaries are served meanwhile: only contract waits for the rows to be fixed.
  expect((await verify(spec, { ...o, forApp: 'v2' })).ok).toBe(true);
  await expect(contract(spec, o)).rejects.toThrow(/contract refused/);
  await c.query(w.fix);
}

async function checkCompleted(tc: OperationCase, spec: MigrationSpec, c: Client): Promise<void> {
  if (tc.contracted) expect(await columnNames(c, spec.table)).toEqual(tc.contracted);
  const after = await snapshotSchema(c);
  expect(after.indexes.filter((x) => / INVALID$/.test(x))).toEqual([]);
  expect(after.constraints.filter((x) => / NOT VALID$/.test(x) || x.includes('_tandem'))).toEqual([]);
  expect(after.triggers).toEqual([]);
  expect(await tandemFunctions(c)).toBe(0);
  expect(
    (await c.query(`SELECT count(*)::int AS n FROM pg_proc WHERE proname = $1`, [`sync_${spec.name}`])).rows[0].n,
  ).toBe(0);
}

/** Start fails with the expected error; a rollback then gives back the schema and every row. */
async function startRefused(
  e: ExpectedError,
  spec: MigrationSpec,
  o: Options,
  c: Client,
  twin: Client,
  old: OldVersion,
  original: Record<string, string[]>,
): Promise<void> {
  await expectKind(
    old.during(async () => {
      await expand(spec, o);
      await backfill(spec, o);
    }),
    e,
  );
  await old.burst();
  await rollback(spec, o).catch(() => undefined); // nothing to roll back when expand itself was refused
  expect(await snapshotSchema(c)).toEqual(original);
  expect(await allRows(c)).toEqual(await allRows(twin));
}

/** Complete fails with the expected error and changes nothing: the schema is as it was expanded. */
async function completeRefused(e: ExpectedError, spec: MigrationSpec, o: Options, c: Client): Promise<void> {
  const before = await snapshotSchema(c);
  await expectKind(contract(spec, o), e);
  expect(await snapshotSchema(c)).toEqual(before);
  expect((await rollback(spec, o)).step).toBe('rolled_back');
}
