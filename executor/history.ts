/**
 * Every migration the database records (tandem.migrations), oldest first: what `tandem status`
 * without a spec shows. Read-only; values read back from the state table are checked again.
 */
import { RefusedError } from '../phases/errors';
import { connect } from './connection';
import { ACTOR_COLUMNS } from './state-actor';
import { ExecutorOptions, MigrationProgress } from './types';

export interface ActorRecord {
  /** $TANDEM_ACTOR or user@host, as the executor announced it (null when not recorded). */
  readonly actor: string | null;
  /** The login role (and the role set with SET ROLE, when it differs). */
  readonly dbUser: string | null;
}

/** One step of a migration, as the state table's history records it. */
export interface HistoryStep {
  readonly step: MigrationProgress;
  /** When its transaction started (a backfill: when its last batch's did). */
  readonly at: string;
  /** How long it took, in seconds: the step's transaction, or the backfill run that finished it; null when not recorded. */
  readonly seconds: number | null;
  /** A backfill's rows: in the run that finished it, and in all its runs; null for other steps. */
  readonly rows: number | null;
  readonly totalRows: number | null;
  readonly by: ActorRecord;
}

export interface MigrationHistoryEntry {
  readonly name: string;
  readonly table: string;
  readonly step: MigrationProgress;
  readonly startedAt: string;
  /** When contract or rollback finished it; null while it is in progress. */
  readonly finishedAt: string | null;
  readonly updatedAt: string;
  readonly rowsBackfilled: number;
  readonly startedBy: ActorRecord;
  readonly finishedBy: ActorRecord | null;
  /** Who wrote the record last (e.g. the backfill that stopped). */
  readonly lastBy: ActorRecord;
  /** Every step in order: expand, backfills, rollbacks, re-expands, contract. */
  readonly steps: readonly HistoryStep[];
}

export interface HistoryReport {
  readonly migrations: readonly MigrationHistoryEntry[];
  readonly message: string;
}

const STEPS: readonly MigrationProgress[] = ['expanded', 'backfilling', 'backfilled', 'contracted', 'rolled_back'];
const FINISHED: readonly MigrationProgress[] = ['contracted', 'rolled_back'];

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const count = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);

/** The history column, checked again: an entry that is not Tandem's is refused, not printed. */
function steps(name: string, raw: unknown): HistoryStep[] {
  if (!Array.isArray(raw))
    throw new RefusedError(
      `tandem.migrations has a history for ${name} that is not Tandem's: fix or remove it by hand`,
      name,
    );
  return raw.map((item: unknown) => {
    const e = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const step = text(e?.step) as MigrationProgress | null;
    const at = text(e?.at);
    if (!step || !STEPS.includes(step) || !at || Number.isNaN(Date.parse(at))) {
      throw new RefusedError(
        `tandem.migrations has a history entry for ${name} that is not Tandem's (${JSON.stringify(item)}): fix or remove it by hand`,
        name,
      );
    }
    const ms = count(e.run_ms) ?? count(e.ms);
    const backfill = step === 'backfilled';
    return {
      step,
      at: new Date(at).toISOString(),
      seconds: ms === null ? null : Math.round(ms) / 1000,
      rows: backfill ? count(e.rows) : null,
      totalRows: backfill ? (count(e.backfill_done) ?? count(e.rows)) : null,
      by: { actor: text(e.by), dbUser: text(e.db_user) },
    };
  });
}
const iso = (v: unknown): string | null => (v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString() : null);

function entry(r: Record<string, unknown>, hasActors: boolean): MigrationHistoryEntry {
  const name = text(r.name);
  const step = text(r.step) as MigrationProgress | null;
  const startedAt = iso(r.started_at);
  const updatedAt = iso(r.updated_at);
  const rows = Number(r.backfill_done);
  if (!name || !step || !STEPS.includes(step) || !startedAt || !updatedAt || !Number.isSafeInteger(rows) || rows < 0) {
    throw new RefusedError(
      `tandem.migrations has a record that is not Tandem's (${JSON.stringify(name ?? r.name)}): the state schema belongs to the migrator; fix or remove it by hand`,
      name ?? undefined,
    );
  }
  const actor = (by: unknown, user: unknown): ActorRecord => ({
    actor: hasActors ? text(by) : null,
    dbUser: hasActors ? text(user) : null,
  });
  const finished = FINISHED.includes(step);
  return {
    name,
    table: `${text(r.table_schema)}.${text(r.table_name)}`,
    step,
    startedAt,
    // A record written before the actor columns existed: its last change is when it finished.
    finishedAt: finished ? (iso(r.finished_at) ?? updatedAt) : null,
    updatedAt,
    rowsBackfilled: rows,
    startedBy: actor(r.started_by, r.started_db_user),
    finishedBy: finished ? actor(r.finished_by, r.finished_db_user) : null,
    lastBy: actor(r.last_by, r.last_db_user),
    steps: steps(name, r.history),
  };
}

/** Every recorded migration, oldest first; with `name`, only that one (an empty list when it is not recorded). */
export async function history(options: Pick<ExecutorOptions, 'databaseUrl'>, name?: string): Promise<HistoryReport> {
  const client = await connect(options.databaseUrl);
  try {
    const exists = (await client.query(`SELECT to_regclass('tandem.migrations') IS NOT NULL AS ok`)).rows[0].ok;
    if (!exists)
      return { migrations: [], message: 'no migration recorded: this database has never been expanded by tandem' };
    const none = `no migration named ${name} is recorded in tandem.migrations`;
    const cols = await client.query<{ attname: string }>(
      `SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = 'tandem.migrations'::regclass AND attnum > 0 AND NOT attisdropped`,
    );
    const present = new Set(cols.rows.map((c) => c.attname));
    const hasActors = ACTOR_COLUMNS.every((c) => present.has(c));
    const extra = hasActors ? `, ${ACTOR_COLUMNS.join(', ')}` : '';
    const r = await client.query(
      `SELECT name, table_schema, table_name, step, started_at, updated_at, backfill_done, history${extra}
         FROM tandem.migrations WHERE $1::text IS NULL OR name = $1 ORDER BY started_at, name`,
      [name ?? null],
    );
    const migrations = r.rows.map((row) => entry(row, hasActors));
    if (name !== undefined && migrations.length === 0) return { migrations, message: none };
    const open = migrations.filter((m) => !FINISHED.includes(m.step));
    const message =
      `${migrations.length} migration(s) recorded` +
      (open.length ? `; in progress: ${open.map((m) => `${m.name} (${m.step})`).join(', ')}` : '; none in progress');
    return { migrations, message };
  } finally {
    await client.end().catch(() => undefined);
  }
}
