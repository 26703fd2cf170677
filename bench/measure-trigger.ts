import { Client } from 'pg';
import { backfill, expand } from '../executor';
import { MigrationSpec } from '../phases/sql/spec';
import { BenchContext, BenchDatabase, median } from './bench-context';
import { PgrollBuild, pgrollStart } from './pgroll';
import { serverLoopRates, v1WriteThroughput } from './write-throughput';
import { errorMessage } from '../phases/error-fields';

type Log = (text: string) => void;
const fmt = (v: number) => Math.round(v).toLocaleString('en-GB');

export interface TriggerCostPlan {
  readonly throughputSeconds: number;
  readonly throughputRounds: number;
  readonly workers: number;
}

/** Medians of paired rounds: each side's writes per second without and with its triggers. */
export interface LoopRatios {
  readonly wallWithout: number;
  readonly wallWith: number;
  /** Per second of the backend's own CPU time (null where /proc cannot be read). */
  readonly cpuWithout: number | null;
  readonly cpuWith: number | null;
}

export interface TriggerCost {
  readonly app: { readonly without: number; readonly with: number; readonly pgroll: number | null };
  readonly loop: LoopRatios;
  readonly pgrollLoop: LoopRatios | null;
  /** Why pgroll's triggers were not measured. */
  readonly pgrollReason: string | null;
}

const TABLE_ROWS = 100_000;
const LOOP_WRITES = 20_000;

/** A table with Tandem's sync trigger after the backfill, as the app meets it for the rest of the migration window. */
async function tandemTable(ctx: BenchContext, spec: MigrationSpec): Promise<BenchDatabase> {
  const db = await ctx.fresh(TABLE_ROWS);
  await expand(spec, { databaseUrl: db.url });
  await backfill(spec, { databaseUrl: db.url });
  await ctx.withClient(db.url, (c) => c.query('VACUUM ANALYZE customers'));
  return db;
}

async function pgrollTable(
  ctx: BenchContext,
  pgroll: PgrollBuild,
): Promise<{ db: BenchDatabase | null; reason: string | null }> {
  if (!pgroll.bin) return { db: null, reason: pgroll.reason ?? 'no pgroll binary' };
  let db: BenchDatabase | undefined;
  try {
    db = await ctx.fresh(TABLE_ROWS);
    await pgrollStart(pgroll.bin, db.url);
    await ctx.withClient(db.url, (c) => c.query('VACUUM ANALYZE customers'));
    return { db, reason: null };
  } catch (err) {
    await db?.drop();
    return { db: null, reason: `pgroll trigger not measured: ${errorMessage(err)}` };
  }
}

/** One paired round of the server loop on one table: its user triggers disabled, then enabled. */
async function loopRound(
  c: Client,
  samples: Record<'wallWithout' | 'wallWith' | 'cpuWithout' | 'cpuWith', number[]>,
): Promise<void> {
  await c.query('ALTER TABLE customers DISABLE TRIGGER USER');
  const off = await serverLoopRates(c, TABLE_ROWS, LOOP_WRITES);
  await c.query('ALTER TABLE customers ENABLE TRIGGER USER');
  const on = await serverLoopRates(c, TABLE_ROWS, LOOP_WRITES);
  samples.wallWithout.push(off.wallPerSecond);
  samples.wallWith.push(on.wallPerSecond);
  if (off.cpuPerSecond !== null && on.cpuPerSecond !== null) {
    samples.cpuWithout.push(off.cpuPerSecond);
    samples.cpuWith.push(on.cpuPerSecond);
  }
}

const emptySamples = () => ({
  wallWithout: [] as number[],
  wallWith: [] as number[],
  cpuWithout: [] as number[],
  cpuWith: [] as number[],
});

function loopMedians(s: ReturnType<typeof emptySamples>): LoopRatios {
  return {
    wallWithout: median(s.wallWithout),
    wallWith: median(s.wallWith),
    cpuWithout: s.cpuWithout.length ? median(s.cpuWithout) : null,
    cpuWith: s.cpuWith.length ? median(s.cpuWith) : null,
  };
}

/**
 * What the triggers cost the app's v1 writes, Tandem's and pgroll's side by side: through the app
 * (rounds alternate between the plain table, Tandem's and pgroll's), and single-row renames in a
 * server-side loop, each table with its triggers disabled and enabled in turn, Tandem's and
 * pgroll's rounds interleaved.
 */
export async function measureTriggerCost(
  ctx: BenchContext,
  spec: MigrationSpec,
  pgroll: PgrollBuild,
  plan: TriggerCostPlan,
  log: Log,
): Promise<TriggerCost> {
  log(
    `v1 write throughput without and with the sync trigger (${plan.throughputRounds} rounds of ${plan.throughputSeconds} s each, ${plan.workers} clients)`,
  );
  const plain = await ctx.fresh(TABLE_ROWS);
  const tandem = await tandemTable(ctx, spec);
  const pg = await pgrollTable(ctx, pgroll);
  try {
    const app = { without: [] as number[], with: [] as number[], pgroll: [] as number[] };
    const rate = async (url: string) =>
      (await v1WriteThroughput(url, TABLE_ROWS, plan.throughputSeconds, plan.workers)).writesPerSecond;
    for (let round = 0; round < plan.throughputRounds; round++) {
      app.without.push(await rate(plain.url));
      app.with.push(await rate(tandem.url));
      if (pg.db) app.pgroll.push(await rate(pg.db.url));
    }
    const ours = emptySamples();
    const theirs = emptySamples();
    const tc = new Client({ connectionString: tandem.url });
    const pc = pg.db ? new Client({ connectionString: pg.db.url }) : null;
    await tc.connect();
    await pc?.connect();
    try {
      for (let round = 0; round < plan.throughputRounds + 2; round++) {
        await loopRound(tc, ours);
        if (pc) await loopRound(pc, theirs);
      }
    } finally {
      await tc.end();
      await pc?.end();
    }
    const result: TriggerCost = {
      app: {
        without: median(app.without),
        with: median(app.with),
        pgroll: app.pgroll.length ? median(app.pgroll) : null,
      },
      loop: loopMedians(ours),
      pgrollLoop: pc ? loopMedians(theirs) : null,
      pgrollReason: pg.reason,
    };
    log(
      `  app: ${fmt(result.app.without)}/s without, ${fmt(result.app.with)}/s with${result.app.pgroll === null ? '' : `, ${fmt(result.app.pgroll)}/s with pgroll's`}; server loop: ${fmt(result.loop.wallWithout)}/s without, ${fmt(result.loop.wallWith)}/s with`,
    );
    return result;
  } finally {
    await plain.drop();
    await tandem.drop();
    await pg.db?.drop();
  }
}
