import * as path from 'path';
import { Client } from 'pg';
import { backfill, expand } from '../executor';
import { readState } from '../executor/state';
import { syncFunctionSql, syncFunctionStatements, syncTriggers, createTriggerSql } from '../phases/sql/plan';
import { ResolvedSpec } from '../phases/sql/spec';
import { loadSpecFile } from '../executor/spec-file';
import { startScratchPostgres } from '../rehearsal/scratch-postgres';
import { median } from './bench-context';
import { loadCustomers } from './load-customers';
import { serverLoopRates } from './write-throughput';

/**
 * Where the sync trigger's time goes (`node dist/bench/trigger-breakdown.js [rounds] [variant-regexp]`): on one
 * 100k-row table after expand and backfill, v1 renames in a server-side loop, by the backend's CPU
 * time per write, with the triggers disabled, as expand creates them, and with variants of the
 * generated function that each leave one thing out. Rounds interleave the variants; medians.
 * Prints; writes nothing.
 */
const ROWS = 100_000;
const WRITES = 20_000;
const NOT_BACKFILL = `current_setting('tandem.backfill', true) IS DISTINCT FROM 'on'`;

interface Variant {
  readonly name: string;
  /** Statements that set the variant up on the expanded table (undefined: triggers disabled). */
  readonly setup?: (r: ResolvedSpec) => string[];
}

const replaceFn = (sql: string) => sql.replace(/^CREATE FUNCTION/gm, 'CREATE OR REPLACE FUNCTION');
const asExpanded = (r: ResolvedSpec) => [replaceFn(syncFunctionSql(r)), ...recreateTriggers(r, () => undefined)];

function recreateTriggers(
  r: ResolvedSpec,
  when: (arg: string, current: string | undefined) => string | undefined,
): string[] {
  return syncTriggers(r).flatMap((t) => [
    `DROP TRIGGER IF EXISTS ${JSON.stringify(t.name)} ON ${r.table.name}`,
    createTriggerSql(r, { ...t, when: when(t.arg, t.when) ?? t.when }),
  ]);
}

/** The trigger function's body replaced by RETURN NEW: what calling it costs (its SET clauses included). */
function emptyBody(r: ResolvedSpec): string {
  const sql = syncFunctionStatements(r).at(-1)!.sql;
  const head = sql.slice(0, sql.indexOf(' AS $'));
  return `${replaceFn(head)} AS $empty$ BEGIN RETURN NEW; END $empty$`;
}

const VARIANTS: Variant[] = [
  { name: 'no trigger (disabled)' },
  { name: 'as expand creates it', setup: asExpanded },
  {
    name: 'function returns NEW at once',
    setup: (r) => [emptyBody(r), ...recreateTriggers(r, () => undefined)],
  },
  { name: 'without the EXCEPTION guard', setup: (r) => [replaceFn(syncFunctionSql(r, { guard: false }))] },
  {
    name: 'every evaluation setting pinned',
    setup: (r) => [replaceFn(syncFunctionSql({ ...r, settingsIndependent: false }))],
  },
  {
    name: 'no SET clause at all',
    setup: (r) => [
      replaceFn(syncFunctionSql({ ...r, pathSchemas: undefined })).replace(/ SET search_path FROM CURRENT/, ''),
    ],
  },
  {
    name: 'old-side trigger WHEN (current_setting ...)',
    setup: (r) => [
      replaceFn(syncFunctionSql(r)),
      ...recreateTriggers(r, (arg) => (arg.startsWith('old') || arg === 'insert' ? NOT_BACKFILL : undefined)),
    ],
  },
  {
    name: 'as before (all pinned, WHEN on every trigger)',
    setup: (r) => [
      replaceFn(syncFunctionSql({ ...r, settingsIndependent: false })),
      ...recreateTriggers(r, (arg) => (arg.startsWith('old') || arg === 'insert' ? NOT_BACKFILL : undefined)),
    ],
  },
  {
    name: 'no pending trigger',
    setup: (r) => [
      replaceFn(syncFunctionSql(r)),
      `DROP TRIGGER IF EXISTS ${JSON.stringify(syncTriggers(r).find((t) => t.arg === 'pending')!.name)} ON ${r.table.name}`,
    ],
  },
  {
    name: 'pending WHEN without current_setting',
    setup: (r) => [
      replaceFn(syncFunctionSql(r)),
      ...recreateTriggers(r, (arg, current) =>
        arg === 'pending' ? `OLD._tandem_pending AND NEW._tandem_pending IS NOT FALSE` : current,
      ),
    ],
  },
];

export async function main(argv: string[]): Promise<number> {
  const rounds = Number(argv[0] ?? 5);
  // Optional: only the variants whose name matches (the first two always run: they are the baselines).
  const only = argv[1] ? new RegExp(argv[1]) : null;
  const variants = VARIANTS.filter((v, i) => i < 2 || !only || only.test(v.name));
  const server = await startScratchPostgres();
  try {
    const url = server.urlFor('postgres');
    const spec = loadSpecFile(path.join(__dirname, '..', '..', 'migrations', 'split-full-name.yaml'));
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      await loadCustomers(c, ROWS);
      await expand(spec, { databaseUrl: url });
      await backfill(spec, { databaseUrl: url });
      await c.query('VACUUM ANALYZE customers');
      const resolved = (await readState(c, spec.name))!.resolved;
      const cpuUs: Record<string, number[]> = {};
      for (let i = 0; i < rounds; i++) {
        for (const v of variants) {
          for (const s of asExpanded(resolved)) await c.query(s);
          if (v.setup) for (const s of v.setup(resolved)) await c.query(s);
          await c.query(`ALTER TABLE customers ${v.setup ? 'ENABLE' : 'DISABLE'} TRIGGER USER`);
          const r = await serverLoopRates(c, ROWS, WRITES);
          if (r.cpuPerSecond === null)
            throw new Error('the backend CPU time cannot be read from /proc: run on the server machine');
          (cpuUs[v.name] ??= []).push(1e6 / r.cpuPerSecond);
        }
      }
      for (const s of asExpanded(resolved)) await c.query(s);
      const base = median(cpuUs[VARIANTS[0].name]);
      const full = median(cpuUs[VARIANTS[1].name]);
      for (const v of variants) {
        const m = median(cpuUs[v.name]);
        process.stdout.write(
          `${v.name.padEnd(44)} ${m.toFixed(1).padStart(6)} µs/write  trigger ${(m - base).toFixed(1).padStart(5)} µs  vs expand's ${(m - full >= 0 ? '+' : '') + (m - full).toFixed(1)} µs  ratio ${(base / m).toFixed(2)}x\n`,
        );
      }
    } finally {
      await c.end();
    }
    return 0;
  } finally {
    await server.stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      process.stderr.write(`trigger-breakdown bench failed: ${err?.stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
