import * as fs from 'fs';
import { Client } from 'pg';
import { RefusedError } from '../phases/errors';

/** When the backfill pauses between batches, as gh-ost and pt-online-schema-change do. */
export interface ThrottleOptions {
  /** Pause while any streaming replica's replay lag exceeds this, ms, or a standby cannot report (not streaming, or its slot idle). */
  readonly maxLagMs?: number;
  /** Pause while any streaming replica has more than this many bytes of WAL not replayed, or a standby cannot report. */
  readonly maxLagBytes?: number;
  /** Pause while more than this many other backends are active. */
  readonly maxLoad?: number;
  /** Stop (checkpoint kept) when more than this many other backends are active. */
  readonly criticalLoad?: number;
  /** Pause while this file exists. */
  readonly pauseFile?: string;
}

export interface ThrottleVerdict {
  /** Why to pause now, e.g. `replica lag 3.2 s > 1 s (standby1)`; null: go on. */
  readonly pause: string | null;
  /** Why to stop now; null: go on. */
  readonly stop: string | null;
}

const LAG_SQL = `SELECT coalesce(nullif(application_name, ''), client_addr::text, pid::text) AS name,
  pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS bytes,
  pg_wal_lsn_diff(replay_lsn, '0/0')::float8 AS replayed,
  pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS current,
  extract(epoch FROM replay_lag)::float8 AS lag_s,
  state
FROM pg_stat_replication WHERE state <> 'backup'`;

/**
 * Physical replication slots that keep WAL for a standby which is not connected (down, or not
 * started yet): that standby cannot report how far behind it is, and it falls further behind with
 * every batch. A slot that never reserved WAL (restart_lsn NULL) holds nothing back and is skipped.
 */
const IDLE_SLOTS_SQL = `SELECT slot_name AS name, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::float8 AS retained
FROM pg_replication_slots WHERE slot_type = 'physical' AND NOT active AND restart_lsn IS NOT NULL ORDER BY slot_name`;

const LOAD_SQL = `SELECT count(*)::int AS n FROM pg_stat_activity
  WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`;

function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function bytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.round(n)} bytes`;
}

/**
 * Reads replication lag and load from the primary the backfill writes to. The time lag of a
 * replica is the larger of what PostgreSQL reports (`replay_lag`, while it has WAL to replay) and
 * the age of the oldest WAL position this process saw written that the replica has not replayed
 * yet: `replay_lag` is only measured when the replica replays something, so right after a batch
 * commits it still shows the lag of older WAL (or none).
 */
export class Throttle {
  private samples: { at: number; lsn: number }[] = [];

  constructor(
    private readonly client: Client,
    readonly options: ThrottleOptions,
  ) {}

  get active(): boolean {
    const o = this.options;
    return (
      o.maxLagMs !== undefined ||
      o.maxLagBytes !== undefined ||
      o.maxLoad !== undefined ||
      o.criticalLoad !== undefined ||
      o.pauseFile !== undefined
    );
  }

  private get needsStats(): boolean {
    const o = this.options;
    return (
      o.maxLagMs !== undefined || o.maxLagBytes !== undefined || o.maxLoad !== undefined || o.criticalLoad !== undefined
    );
  }

  /** Replication and activity of other roles are hidden from roles without pg_read_all_stats: refuse to throttle blind. */
  async checkPrivileges(table: string, migration: string): Promise<void> {
    if (!this.needsStats) return;
    const r = await this.client.query(
      `SELECT rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS ok, current_user AS role FROM pg_roles WHERE rolname = current_user`,
    );
    if (!r.rows[0]?.ok) {
      throw new RefusedError(
        `cannot throttle the backfill of ${table}: role ${r.rows[0]?.role ?? '(unknown)'} cannot see other sessions' replication lag and activity; GRANT pg_monitor TO ${r.rows[0]?.role ?? 'the migrator'}, or drop --max-lag/--max-lag-bytes/--max-load/--critical-load`,
        migration,
      );
    }
  }

  async check(): Promise<ThrottleVerdict> {
    const o = this.options;
    if (o.criticalLoad !== undefined || o.maxLoad !== undefined) {
      const n = (await this.client.query(LOAD_SQL)).rows[0].n as number;
      if (o.criticalLoad !== undefined && n > o.criticalLoad)
        return { pause: null, stop: `${n} active backends > --critical-load ${o.criticalLoad}` };
      if (o.maxLoad !== undefined && n > o.maxLoad)
        return { pause: `load ${n} active backends > ${o.maxLoad}`, stop: null };
    }
    if (o.maxLagMs !== undefined || o.maxLagBytes !== undefined) {
      const reason = await this.lagReason();
      if (reason) return { pause: reason, stop: null };
    }
    if (o.pauseFile !== undefined && fs.existsSync(o.pauseFile))
      return { pause: `pause file ${o.pauseFile} exists`, stop: null };
    return { pause: null, stop: null };
  }

  /**
   * A standby that cannot report counts as lagging, as gh-ost and pt-osc treat a replica they
   * cannot read: one connected but not streaming (starting up, catching up: when it is furthest
   * behind), or one whose physical slot has no standby connected (down).
   */
  private async silentStandby(all: { name: string; state: string }[]): Promise<string | null> {
    const notStreaming = all.find((r) => r.state !== 'streaming');
    if (notStreaming)
      return `standby ${notStreaming.name} is not streaming (state ${notStreaming.state}), so it cannot report its lag; waiting until it streams`;
    const idle = (await this.client.query<{ name: string; retained: number }>(IDLE_SLOTS_SQL)).rows[0];
    if (idle) {
      return `replication slot ${idle.name} has no standby connected, so it cannot report its lag (${bytes(idle.retained)} of WAL kept for it); waiting until its standby streams again, or drop the slot if that standby is gone for good`;
    }
    return null;
  }

  private async lagReason(): Promise<string | null> {
    const o = this.options;
    const all = (await this.client.query(LAG_SQL)).rows as {
      name: string;
      bytes: number | null;
      replayed: number | null;
      current: number;
      lag_s: number | null;
      state: string;
    }[];
    const silent = await this.silentStandby(all);
    if (silent) return silent;
    const rows = all.filter((r) => r.state === 'streaming');
    const now = Date.now();
    const current =
      rows[0]?.current ??
      (await this.client.query(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS c`)).rows[0].c;
    if (!this.samples.length || this.samples[this.samples.length - 1].lsn < current)
      this.samples.push({ at: now, lsn: current });
    let worst: string | null = null;
    let worstMs = -1;
    for (const r of rows) {
      const behind = r.bytes ?? 0;
      if (o.maxLagBytes !== undefined && behind > o.maxLagBytes)
        return `replica lag ${bytes(behind)} > ${bytes(o.maxLagBytes)} (${r.name})`;
      if (o.maxLagMs === undefined || r.replayed === null || behind <= 0) continue;
      const oldest = this.samples.find((s) => s.lsn > (r.replayed as number));
      const estimated = oldest ? now - oldest.at : 0;
      const reported = (r.lag_s ?? 0) * 1000;
      const lag = Math.max(estimated, reported);
      if (lag > o.maxLagMs && lag > worstMs) {
        worstMs = lag;
        worst = `replica lag ${seconds(lag)} > ${seconds(o.maxLagMs)} (${r.name})`;
      }
    }
    // Samples every replica has replayed are no longer needed.
    const minReplayed = Math.min(...rows.map((r) => r.replayed ?? -1));
    if (rows.length === 0 || minReplayed >= 0)
      this.samples = this.samples.filter((s, i) => i === this.samples.length - 1 || s.lsn > minReplayed);
    return worst;
  }
}

/** `500ms`, `1s`, `1.5s`, `2min`: a duration in ms, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|min)$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
  return n > 0 ? n : undefined;
}
