import { performance } from 'perf_hooks';
import { Pool, PoolClient } from 'pg';
import { AppVersion } from '../phases/deploy/stages';
import { quoteIdent } from '../phases/sql/identifiers';
import { RowRule, rowsKeepingRules } from './constraint-values';
import { ExpressionEvaluator, Row } from './expression-evaluator';
import { PacingArgs, PhasedTraffic, PhaseStats } from './phased-traffic';
import { Entry, MappingPool, sameValues, Values } from './round-trip';
import { MappingWrite, RowLedger, RowOp, RowWrite } from './row-ledger';
import { RowGenerator, rowArraySql, toRow } from './row-seeder';
import { TableModel, writableColumns } from './table-model';
import { errorField, errorMessage } from '../phases/error-fields';

/** Share of each kind of request (defaults: insert 15, update 35, repeat 10, multi 10, delete 5, read 25). */
export interface GenericMix {
  readonly insert: number;
  readonly update: number;
  /** An UPDATE that sets the writer's columns to the values they already hold. */
  readonly repeat: number;
  /** A transaction that updates two or three rows, the higher key first. */
  readonly multi: number;
  readonly delete: number;
  readonly read: number;
}

export const DEFAULT_MIX: GenericMix = { insert: 15, update: 35, repeat: 10, multi: 10, delete: 5, read: 25 };

export interface GenericTrafficArgs extends PacingArgs {
  /** One pool per app version (each version runs in its own pods), connected as the app role. */
  readonly pools: Readonly<Partial<Record<AppVersion, Pool>>>;
  /** The table as it was before expand. */
  readonly model: TableModel;
  readonly mappings: readonly MappingPool[];
  readonly ledger: RowLedger;
  /** Values for the columns no operation touches. */
  readonly generator: RowGenerator;
  /** Generated rows of those columns that pass the table's CHECKs and domains (see validRows): inserts and updates draw from them. */
  readonly rowPool?: readonly Row[];
  /** Keys (JSON arrays of text) of the rows that exist when traffic starts. */
  readonly keys: readonly string[];
  readonly mix?: GenericMix;
  readonly slowWriteMs?: number;
  /**
   * Rows that break a CHECK the spec adds (see specBreakingRows), and the share (0..1) of the old
   * version's inserts that write one: what verify must then report before contract.
   */
  readonly breaking?: { readonly rows: readonly Row[]; readonly share: number };
}

/** A read, paired with the write its reader had to see. */
export interface GenericRead {
  readonly write: RowWrite;
  readonly version: AppVersion;
  readonly actual: Row | null;
  /** The sides the reader read (default: its version's, see sidesOf). */
  readonly sides?: { readonly old: boolean; readonly new: boolean };
}

/** The columns an insert writes besides the operations' own: every writable column no operation touches. */
export function insertableColumns(model: TableModel, mappings: readonly MappingPool[]): Set<string> {
  const touched = new Set(mappings.flatMap((p) => [...p.oldColumns, ...p.newColumns]));
  return new Set(
    writableColumns(model)
      .filter((c) => !touched.has(c.name))
      .map((c) => c.name),
  );
}

/**
 * Generated rows of the given columns that the table's CHECKs, its domains and the spec's CHECKs
 * accept, evaluated in SQL: the traffic respects the constraints it knows, so what the schema still
 * refuses (a unique value taken, a trigger's RAISE) is rare and counted apart.
 */
export async function validRows(
  evaluator: ExpressionEvaluator,
  rules: readonly RowRule[],
  generator: RowGenerator,
  columns: ReadonlySet<string>,
  count: number,
): Promise<Row[]> {
  const rows = Array.from({ length: count }, () => generator.row(columns));
  // A rule on columns the rows leave out (an operation's own) cannot be judged here.
  const own = rules.filter((r) => r.columns.every((c) => columns.has(c)));
  return (await rowsKeepingRules(evaluator, own, rows)).kept;
}

/** Which side of the operations a version writes and reads. */
export function sidesOf(version: AppVersion): { old: boolean; new: boolean } {
  return { old: version !== 'v3', new: version !== 'v1' };
}

const TANDEM_CONTEXT = /function tandem\.|_tandem_/;

/**
 * Whether a failed write was refused by the user's own schema (the writer broke a CHECK, a unique
 * index, a NOT NULL or a type of a column it wrote itself, or a user trigger raised), rather than
 * failed because of Tandem: anything raised inside Tandem's trigger, a constraint of Tandem's, a
 * constraint on columns the writer did not write, a deadlock or a timeout is a failure.
 */
export function rejectedBySchema(err: unknown, written: ReadonlySet<string>, model: TableModel): boolean {
  const text = (name: string): string => {
    const v = errorField(err, name);
    return typeof v === 'string' ? v : '';
  };
  const code = text('code');
  const where = text('where');
  if (TANDEM_CONTEXT.test(where) || text('constraint').startsWith('_tandem')) return false;
  if (code === '23502') return text('column') !== '' && written.has(text('column'));
  if (code.startsWith('23')) {
    const cols = model.constraintColumns[text('constraint')];
    // Not a constraint of the table: a domain's CHECK, raised where the writer's own value was read
    // (inside Tandem's trigger it would carry the trigger's context, handled above).
    if (cols === undefined) return code === '23514';
    return cols.length > 0 && cols.every((c) => written.has(c));
  }
  if (code.startsWith('22')) return true;
  // A user trigger's RAISE, or a row-level security policy.
  if (code === 'P0001' || code === '42501') return where !== '' || code === '42501';
  return false;
}

/**
 * An old version's INSERT that gives an old column NULL: the trigger takes it as left out and may
 * put `down` of the new side there (docs/rehearsal.md, Limits of the rehearsal). The write says so, and so does
 * every later write that leaves the old side as it is (it carries this one's mapping on).
 */
export function withInsertedNulls(version: AppVersion, write: MappingWrite): MappingWrite {
  if (version !== 'v1' || !write.entry || !Object.values(write.old).some((v) => v === null)) return write;
  return { ...write, nullMayBe: write.entry.old };
}

interface Statement {
  readonly sql: string;
  readonly values: (string | null)[];
  readonly written: string[];
  readonly key?: string;
  readonly mappings: MappingWrite[];
  /** An old version's insert of a row that breaks a CHECK the spec adds. */
  readonly breaksSpec?: boolean;
}

/** What a write's RETURNING gives back: the row's key and its untouched columns. */
interface WriteResult {
  readonly k: (string | null)[];
  readonly u: (string | null)[];
}

/**
 * App traffic derived from the spec: each version writes and reads its side of every operation
 * (v1 the old columns, v2 both, the new side as a new version would, v3 the new columns), with
 * values from the pools the spec's expressions were evaluated on. Inserts, updates, updates that
 * repeat a value, multi-row transactions and deletes; every acknowledged write goes to the ledger.
 */
export class GenericTraffic extends PhasedTraffic {
  private readonly owned: string[][];
  private readonly observations: GenericRead[] = [];
  private readonly pk: string[];
  private readonly untouched: string[];
  private readonly updatable: string[];
  private readonly insertable: Set<string>;
  /** Acknowledged inserts by the old version of rows that break a CHECK the spec adds. */
  specBreakingWrites = 0;

  constructor(private readonly args: GenericTrafficArgs) {
    super(args);
    this.owned = Array.from({ length: this.workers }, () => []);
    args.keys.forEach((k, i) => this.owned[i % this.workers].push(k));
    const m = args.model;
    const touched = new Set(args.mappings.flatMap((p) => [...p.oldColumns, ...p.newColumns]));
    this.pk = [...m.primaryKey];
    this.untouched = m.columns.map((c) => c.name).filter((c) => !touched.has(c) && !c.startsWith('_tandem'));
    const fk = new Set(m.foreignKeys.flatMap((f) => f.columns));
    const unique = new Set(m.uniques.flatMap((u) => u));
    const writable = writableColumns(m).filter((c) => !touched.has(c.name));
    this.insertable = insertableColumns(m, args.mappings);
    this.updatable = writable
      .filter((c) => !fk.has(c.name) && !unique.has(c.name) && !RowGenerator.leavesToDefault(c))
      .map((c) => c.name);
  }

  takeReads(): GenericRead[] {
    return this.observations.splice(0, this.observations.length);
  }

  private pickEntry(pool: MappingPool, fromOld: boolean): Entry | undefined {
    const list = fromOld ? pool.entries.filter((e) => e.source === 'old') : pool.entries;
    return list.length ? list[Math.floor(this.random() * list.length)] : undefined;
  }

  /** What `version` writes on one operation's columns: fresh values, or (repeat) the ones the row holds. */
  private mappingValues(
    version: AppVersion,
    pool: MappingPool,
    prior: MappingWrite | undefined,
  ): { set: Values; write: MappingWrite } | undefined {
    if (prior) {
      const e = prior.entry;
      if (version === 'v1') {
        const nw = e
          ? e.raw && sameValues(prior.old, e.raw, pool.oldColumns)
            ? e.new
            : sameValues(prior.old, e.old, pool.oldColumns)
              ? e.back
              : undefined
          : undefined;
        return { set: prior.old, write: { old: prior.old, new: nw, oldExact: true, newExact: false, entry: e } };
      }
      if (prior.new === undefined) return undefined;
      if (version === 'v2')
        return {
          set: { ...prior.old, ...prior.new },
          write: { old: prior.old, new: prior.new, oldExact: true, newExact: true, entry: e },
        };
      if (e && sameValues(prior.new, e.new, pool.newColumns))
        return { set: prior.new, write: { old: e.old, new: e.new, oldExact: false, newExact: true, entry: e } };
      return undefined;
    }
    if (version === 'v1') {
      const raw = this.random() < 0.8;
      const e = this.pickEntry(pool, raw);
      if (!e) return undefined;
      const old = raw && e.raw ? e.raw : e.old;
      return {
        set: old,
        write: { old, new: old === e.raw ? e.new : e.back, oldExact: true, newExact: false, entry: e },
      };
    }
    const e = this.pickEntry(pool, false);
    if (!e) return undefined;
    if (version === 'v2')
      return {
        set: { ...e.old, ...e.new },
        write: { old: e.old, new: e.new, oldExact: true, newExact: true, entry: e },
      };
    return { set: e.new, write: { old: e.old, new: e.new, oldExact: false, newExact: true, entry: e } };
  }

  private returning(): string {
    return `RETURNING ${rowArraySql(this.pk, 'x')} AS k, ${rowArraySql(this.untouched, 'x')} AS u`;
  }

  private where(key: string, offset: number): { sql: string; values: string[] } {
    const parts = JSON.parse(key) as string[];
    return { sql: this.pk.map((c, i) => `x.${quoteIdent(c)} = $${offset + i + 1}`).join(' AND '), values: parts };
  }

  private insertStatement(version: AppVersion): Statement | undefined {
    const cols: Record<string, string | null> = {};
    const breaking = this.args.breaking;
    const breaks =
      version === 'v1' && breaking !== undefined && breaking.rows.length > 0 && this.random() < breaking.share;
    const pool = breaks ? breaking.rows : (this.args.rowPool ?? []);
    const row = pool.length ? pool[Math.floor(this.random() * pool.length)] : this.args.generator.row(this.insertable);
    Object.assign(cols, row);
    // A value of a unique column is written once: a fresh one, not a pooled row's again.
    for (const u of this.args.model.uniques)
      if (u.length === 1 && u[0] in cols) cols[u[0]] = this.args.generator.value(u[0]);
    const mappings: MappingWrite[] = [];
    for (const pool of this.args.mappings) {
      const side = sidesOf(version);
      const needs = (side.old && pool.oldColumns.length) || (side.new && pool.newColumns.length);
      const v = needs ? this.mappingValues(version, pool, undefined) : undefined;
      if (needs && !v) return undefined;
      if (v) Object.assign(cols, v.set);
      mappings.push(v ? withInsertedNulls(version, v.write) : { old: {}, oldExact: false, newExact: false });
    }
    const names = Object.keys(cols);
    const sql = names.length
      ? `INSERT INTO ${this.args.model.qualified} AS x (${names.map(quoteIdent).join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}) ${this.returning()}`
      : `INSERT INTO ${this.args.model.qualified} AS x DEFAULT VALUES ${this.returning()}`;
    return { sql, values: names.map((n) => cols[n]), written: names, mappings, breaksSpec: breaks };
  }

  private updateStatement(version: AppVersion, key: string, repeat: boolean): Statement | undefined {
    const prior = this.args.ledger.latestFor(key);
    if (!prior || prior.deleted) return undefined;
    const cols: Record<string, string | null> = {};
    const mappings: MappingWrite[] = [];
    this.args.mappings.forEach((pool, i) => {
      const side = sidesOf(version);
      const needs = (side.old && pool.oldColumns.length) || (side.new && pool.newColumns.length);
      const v = needs
        ? (this.mappingValues(version, pool, repeat ? prior.mappings[i] : undefined) ??
          this.mappingValues(version, pool, undefined))
        : undefined;
      if (v) Object.assign(cols, v.set);
      mappings.push(v ? v.write : prior.mappings[i]);
    });
    if (this.updatable.length && (Object.keys(cols).length === 0 || this.random() < 0.3)) {
      const c = this.updatable[Math.floor(this.random() * this.updatable.length)];
      const pool = this.args.rowPool ?? [];
      const fresh =
        pool.length && c in pool[0] ? pool[Math.floor(this.random() * pool.length)][c] : this.args.generator.value(c);
      cols[c] = repeat && c in prior.untouched ? prior.untouched[c] : fresh;
    }
    const names = Object.keys(cols);
    if (names.length === 0) return undefined;
    const where = this.where(key, names.length);
    const sql = `UPDATE ${this.args.model.qualified} AS x SET ${names.map((n, i) => `${quoteIdent(n)} = $${i + 1}`).join(', ')} WHERE ${where.sql} ${this.returning()}`;
    return { sql, values: [...names.map((n) => cols[n]), ...where.values], written: names, key, mappings };
  }

  private pickOp(owned: string[]): keyof GenericMix {
    const mix = this.args.mix ?? DEFAULT_MIX;
    if (owned.length === 0) return 'insert';
    let r = this.random() * Object.values(mix).reduce((s, v) => s + v, 0);
    for (const [op, w] of Object.entries(mix) as [keyof GenericMix, number][]) {
      r -= w;
      if (r < 0) return op;
    }
    return 'read';
  }

  protected async request(w: number, stats: PhaseStats): Promise<void> {
    return this.send(w, stats, this.pickVersion(stats.weights), this.pickOp(this.owned[w]));
  }

  private anyKey(owned: string[]): string {
    return owned[Math.floor(this.random() * owned.length)];
  }

  /** One request of `op` by `version` as worker `w` (on a row it owns), counted in `stats` and the ledger. */
  async send(w: number, stats: PhaseStats, version: AppVersion, op: keyof GenericMix): Promise<void> {
    const pool = this.args.pools[version];
    if (!pool) throw new Error(`traffic for ${version}, but no ${version} connection pool was given`);
    const counts = (stats.byVersion[version] ??= { writes: 0, reads: 0 });
    const owned = this.owned[w];
    if (op === 'read') return this.read(pool, version, this.anyKey(owned), stats, counts);

    const statements = this.statementsFor(version, op, owned);
    if (statements.length === 0) return;
    const started = performance.now();
    let results: WriteResult[];
    try {
      results = await this.execute(pool, statements);
    } catch (err) {
      this.recordFailure(err, stats, { version, op, statements });
      return;
    }
    const ms = performance.now() - started;
    this.recordWrites(stats, counts, { version, op, owned, statements, results });
    stats.writeMs.push(ms);
    stats.writeAt.push(started + ms);
    if (ms > (this.args.slowWriteMs ?? Infinity)) stats.slowWrites++;
  }

  /** The statements of one `op` request by `version` on rows from `owned` (none: nothing to send). */
  private statementsFor(version: AppVersion, op: keyof GenericMix, owned: string[]): Statement[] {
    let statements: Statement[] = [];
    if (op === 'insert') statements = [this.insertStatement(version)].filter((s): s is Statement => s !== undefined);
    else if (op === 'update' || op === 'repeat')
      statements = [this.updateStatement(version, this.anyKey(owned), op === 'repeat')].filter(
        (s): s is Statement => s !== undefined,
      );
    else if (op === 'delete') statements = [this.deleteStatement(this.anyKey(owned))];
    else if (op === 'multi' && owned.length >= 2) statements = this.multiStatements(version, owned);
    return statements;
  }

  private deleteStatement(key: string): Statement {
    const where = this.where(key, 0);
    return {
      sql: `DELETE FROM ${this.args.model.qualified} AS x WHERE ${where.sql} RETURNING ${rowArraySql(this.pk, 'x')} AS k`,
      values: where.values,
      written: [],
      key,
      mappings: [],
    };
  }

  /** Updates of two or three owned rows, for one transaction. */
  private multiStatements(version: AppVersion, owned: string[]): Statement[] {
    // The higher key first, then a lower one: the order that deadlocks against a backfill that locks rows in key order.
    const i = Math.floor(this.random() * (owned.length - 1));
    const j = Math.min(owned.length - 1, i + 1 + Math.floor(this.random() * 3));
    const picked = [owned[j], ...(this.random() < 0.5 && j - i > 1 ? [owned[i + 1]] : []), owned[i]];
    return picked.map((k) => this.updateStatement(version, k, false)).filter((s): s is Statement => s !== undefined);
  }

  /** Run the statements: one alone, several in one transaction, rolled back if one fails (then rethrows). */
  private async execute(pool: Pool, statements: Statement[]): Promise<WriteResult[]> {
    let client: PoolClient | undefined;
    const results: WriteResult[] = [];
    try {
      if (statements.length === 1) {
        const { rows } = await pool.query(statements[0].sql, statements[0].values);
        results.push(rows[0]);
      } else {
        client = await pool.connect();
        await client.query('BEGIN');
        for (const s of statements) results.push((await client.query(s.sql, s.values)).rows[0]);
        await client.query('COMMIT');
      }
    } catch (err) {
      if (client) await client.query('ROLLBACK').catch(() => undefined);
      client?.release();
      throw err;
    }
    client?.release();
    return results;
  }

  /** A failed request goes to the ledger: rejected by the user's schema, or a failure (counted in `stats`). */
  private recordFailure(
    err: unknown,
    stats: PhaseStats,
    { version, op, statements }: { version: AppVersion; op: keyof GenericMix; statements: Statement[] },
  ): void {
    const written = new Set(statements.flatMap((s) => s.written));
    const failure = {
      stage: stats.stage,
      version,
      op: op as RowOp,
      id: statements[0].key,
      message: errorMessage(err),
    };
    if (rejectedBySchema(err, written, this.args.model)) this.args.ledger.reject(failure);
    else {
      stats.failedWrites++;
      this.args.ledger.fail(
        failure,
        statements.map((s) => s.key).filter((k): k is string => k !== undefined),
      );
    }
  }

  /** Each acknowledged write goes to the ledger and the counts; inserted keys join, deleted ones leave, `owned`. */
  private recordWrites(
    stats: PhaseStats,
    counts: { writes: number },
    {
      version,
      op,
      owned,
      statements,
      results,
    }: {
      version: AppVersion;
      op: Exclude<keyof GenericMix, 'read'>;
      owned: string[];
      statements: Statement[];
      results: WriteResult[];
    },
  ): void {
    statements.forEach((s, i) => {
      const r = results[i];
      if (!r) return; // the row is gone: an UPDATE of nothing
      const key = JSON.stringify(r.k);
      if (op === 'delete') {
        this.args.ledger.record({ key, version, op, stage: stats.stage, deleted: true, mappings: [], untouched: {} });
        owned.splice(owned.indexOf(key), 1);
      } else {
        this.args.ledger.record({
          key,
          version,
          op: op === 'insert' ? 'insert' : op,
          stage: stats.stage,
          deleted: false,
          mappings: s.mappings,
          untouched: r.u ? toRow(this.untouched, r.u) : {},
        });
        if (s.breaksSpec) this.specBreakingWrites++;
        if (op === 'insert') owned.push(key);
      }
      stats.writes++;
      counts.writes++;
    });
  }

  private async read(
    pool: Pool,
    version: AppVersion,
    key: string,
    stats: PhaseStats,
    counts: { reads: number },
  ): Promise<void> {
    const expected = this.args.ledger.latestFor(key);
    const side = sidesOf(version);
    const cols = [
      ...this.untouched,
      ...this.args.mappings.flatMap((p) => [...(side.old ? p.oldColumns : []), ...(side.new ? p.newColumns : [])]),
    ];
    const where = this.where(key, 0);
    try {
      const { rows } = await pool.query(
        `SELECT ${rowArraySql(cols, 'x')} AS v FROM ${this.args.model.qualified} AS x WHERE ${where.sql}`,
        where.values,
      );
      stats.reads++;
      counts.reads++;
      if (expected)
        this.observations.push({ write: expected, version, actual: rows[0] ? toRow(cols, rows[0].v) : null });
    } catch {
      stats.failedReads++;
    }
  }
}
