import { Client } from 'pg';
import { backfill, expand } from '../executor';
import { readState } from '../executor/state';
import { syncFunctionSql } from '../phases/sql/plan';
import { loadSpecFile } from '../phases/sql/spec';
import { startScratchPostgres } from '../rehearsal/scratch-postgres';
import * as path from 'path';
import { loadCustomers } from './load-customers';
import { serverLoopWritesPerSecond, v1WriteThroughput } from './write-throughput';

/**
 * What the sync trigger's EXCEPTION guard costs (`node dist/bench/trigger-guard.js [rounds]`):
 * on one 100k-row table, v1 renames inside the server and through the app's v1 data layer, with
 * the trigger disabled, with the function as expand creates it (guarded), and with the same
 * function built without the guard. Interleaved rounds, medians. Prints; writes nothing.
 */
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function main(argv: string[]): Promise<number> {
  const rounds = Number(argv[0] ?? 5);
  const server = await startScratchPostgres();
  try {
    const url = server.urlFor('postgres');
    const rows = 100_000;
    const spec = loadSpecFile(path.join(__dirname, '..', '..', 'migrations', 'split-full-name.yaml'));
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      await loadCustomers(c, rows);
      await expand(spec, { databaseUrl: url });
      await backfill(spec, { databaseUrl: url });
      const resolved = (await readState(c, spec.name))!.resolved;
      const replace = (guard: boolean) => c.query(syncFunctionSql(resolved, { guard }).replace(/^CREATE FUNCTION/, 'CREATE OR REPLACE FUNCTION'));
      const r: Record<string, { loop: number[]; app: number[] }> = { none: { loop: [], app: [] }, guarded: { loop: [], app: [] }, unguarded: { loop: [], app: [] } };
      for (let i = 0; i < rounds; i++) {
        for (const variant of ['none', 'guarded', 'unguarded'] as const) {
          await c.query(`ALTER TABLE customers ${variant === 'none' ? 'DISABLE' : 'ENABLE'} TRIGGER USER`);
          if (variant !== 'none') await replace(variant === 'guarded');
          r[variant].loop.push(await serverLoopWritesPerSecond(c, rows, 20_000));
          r[variant].app.push((await v1WriteThroughput(url, rows, 3, 4)).writesPerSecond);
        }
      }
      const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { loop: median(v.loop), app: median(v.app) }]));
      const us = (perS: number) => (1e6 / perS).toFixed(1);
      for (const [k, v] of Object.entries(m)) process.stdout.write(`${k.padEnd(10)} server loop ${Math.round(v.loop)}/s (${us(v.loop)} µs/write), app ${Math.round(v.app)}/s\n`);
      process.stdout.write(`guarded vs none: loop ${(m.guarded.loop / m.none.loop).toFixed(2)}x, app ${(m.guarded.app / m.none.app).toFixed(2)}x; unguarded vs none: loop ${(m.unguarded.loop / m.none.loop).toFixed(2)}x, app ${(m.unguarded.app / m.none.app).toFixed(2)}x\n`);
    } finally {
      await c.end();
    }
    return 0;
  } finally {
    await server.stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code), (err) => {
    process.stderr.write(`trigger-guard bench failed: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  });
}
