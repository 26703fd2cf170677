import { Pool } from 'pg';
import { createStore } from '../app/versions';
import { backfill, expand } from '../executor';
import { britishNames, randomSource } from '../rehearsal/british-names';
import { checkTable, Comparison, sawWrite } from '../rehearsal/consistency-check';
import { customersTableSql, seedCustomers } from '../rehearsal/demo-database';
import { demoShapeOf } from '../rehearsal/demo-shape';
import { percentile } from '../rehearsal/latency-stats';
import { PAUSED, TrafficGenerator } from '../rehearsal/traffic';
import { AcknowledgedWrite, WriteLedger } from '../rehearsal/write-ledger';
import { freshDatabase, sql } from './db';
import { splitSpec } from './fixtures';

const shape = demoShapeOf(splitSpec());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('percentile (nearest rank)', () => {
  it.each([
    ['no values', 50, 0, []],
    ['one value', 99, 7, [7]],
    ['four values', 50, 2, [1, 2, 3, 4]],
    ['unsorted values', 100, 4, [4, 3, 2, 1]],
    ['1..100', 99, 99, Array.from({ length: 100 }, (_, i) => i + 1)],
  ])('%s: p%i is %i', (_, p, expected, values) => {
    expect(percentile(values, p)).toBe(expected);
  });
});

describe('WriteLedger', () => {
  it('keeps the latest write per customer and forgets customers whose latest write failed', () => {
    const ledger = new WriteLedger();
    ledger.record({ id: '1', version: 'v1', op: 'seed', columns: { full_name: 'Ada Lovelace' }, stage: 'baseline' });
    const second = ledger.record({
      id: '1',
      version: 'v2',
      op: 'rename',
      columns: { full_name: 'Ada King', first_name: 'Ada', last_name: 'King' },
      stage: 'dual-write',
    });
    ledger.record({ id: '2', version: 'v1', op: 'seed', columns: { full_name: 'Alan Turing' }, stage: 'baseline' });
    expect(ledger.latestFor('1')).toEqual(second);
    ledger.fail({ id: '2', version: 'v1', op: 'rename', stage: 'expand', message: 'boom' });
    expect(ledger.latestFor('2')).toBeUndefined();
    expect(ledger.latestWrites().map((w) => w.id)).toEqual(['1']);
    expect([ledger.acknowledged, ledger.failed, ledger.failureSamples.length]).toEqual([3, 1, 1]);
  });
});

describe("sawWrite: the checker's rule per writer and reader", () => {
  const write = (version: 'v1' | 'v2' | 'v3', columns: AcknowledgedWrite['columns']): AcknowledgedWrite => ({
    seq: 0,
    id: '1',
    version,
    op: 'rename',
    columns,
    stage: 's',
  });
  const ev = (expected: object, up: [string | null, string | null] = [null, null], down: string | null = null) => ({
    expected,
    upOfActual: { first_name: up[0], last_name: up[1] },
    downOfActual: down,
  });
  it.each<[string, Comparison, ReturnType<typeof ev>, boolean]>([
    [
      'v1 full_name read back byte for byte',
      {
        write: write('v1', { full_name: 'Mary  Shelley' }),
        actual: { full_name: 'Mary  Shelley' },
        old: true,
        new: false,
      },
      ev({}),
      true,
    ],
    [
      'v1 full_name with a space lost',
      {
        write: write('v1', { full_name: 'Mary  Shelley' }),
        actual: { full_name: 'Mary Shelley' },
        old: true,
        new: false,
      },
      ev({}),
      false,
    ],
    [
      'v1 write read by v2 as up(full_name)',
      {
        write: write('v1', { full_name: 'Twiggy ' }),
        actual: { first_name: 'Twiggy', last_name: null },
        old: false,
        new: true,
      },
      ev({ first_name: 'Twiggy', last_name: null }),
      true,
    ],
    [
      'v1 write read by v2 with a wrong last name',
      {
        write: write('v1', { full_name: 'Ada Lovelace' }),
        actual: { first_name: 'Ada', last_name: 'King' },
        old: false,
        new: true,
      },
      ev({ first_name: 'Ada', last_name: 'Lovelace' }, [null, null], 'Ada King'),
      false,
    ],
    [
      'v1 write whose new side was left as it was and agrees by down',
      {
        write: write('v1', { full_name: 'Ada Lovelace' }),
        actual: { first_name: 'Ada', last_name: 'Lovelace' },
        old: false,
        new: true,
      },
      ev({ first_name: 'X', last_name: 'Y' }, [null, null], 'Ada Lovelace'),
      true,
    ],
    [
      'v2 write read by v1',
      {
        write: write('v2', { full_name: 'John Vin', first_name: 'John', last_name: 'Vin' }),
        actual: { full_name: 'John Vin' },
        old: true,
        new: false,
      },
      ev({}),
      true,
    ],
    [
      'v3 write read by v1 as down(new)',
      {
        write: write('v3', { first_name: 'John', last_name: 'Vin' }),
        actual: { full_name: 'John Vin' },
        old: true,
        new: false,
      },
      ev({ full_name: 'John Vin' }, ['John', 'Vin']),
      true,
    ],
    [
      'v3 write that left a non-round-tripping full_name as it was',
      {
        write: write('v3', { first_name: 'Twiggy', last_name: null }),
        actual: { full_name: 'Twiggy ' },
        old: true,
        new: false,
      },
      ev({ full_name: 'Twiggy' }, ['Twiggy', null]),
      true,
    ],
    [
      'v3 write not reflected in full_name',
      {
        write: write('v3', { first_name: 'John', last_name: 'Vin' }),
        actual: { full_name: 'John Smith' },
        old: true,
        new: false,
      },
      ev({ full_name: 'John Vin' }, ['John', 'Smith']),
      false,
    ],
    [
      'a row that is gone',
      { write: write('v2', { full_name: 'A B', first_name: 'A', last_name: 'B' }), actual: null, old: true, new: true },
      ev({}),
      false,
    ],
  ])('%s', (_, comparison, evaluated, expected) => {
    expect(sawWrite(comparison, evaluated as any)).toBe(expected);
  });
});

describe('TrafficGenerator against the test PostgreSQL', () => {
  let url: string;
  let pool: Pool;

  beforeEach(async () => {
    url = await freshDatabase('traffic');
    await sql(url, customersTableSql());
    pool = new Pool({ connectionString: url, max: 10 });
  });
  afterEach(async () => {
    await pool.end();
  });

  async function run(weights: Partial<Record<'v1' | 'v2' | 'v3', number>>, ops: number) {
    const seeded = await seedCustomers(pool, 200, britishNames(3));
    const ledger = new WriteLedger();
    for (const s of seeded)
      ledger.record({ id: s.id, version: 'v1', op: 'seed', columns: { full_name: s.name }, stage: 'seed' });
    const stores = { v1: createStore('v1', pool), v2: createStore('v2', pool), v3: createStore('v3', pool) };
    const traffic = new TrafficGenerator({
      stores,
      ledger,
      names: britishNames(4),
      ids: seeded.map((s) => s.id),
      workers: 4,
      opsPerSecond: 0,
      random: randomSource(9),
    });
    traffic.start('test', weights);
    while (traffic.currentStats().writes + traffic.currentStats().reads < ops) await sleep(5);
    const stats = await traffic.stop();
    return { ledger, stats, traffic, seeded };
  }

  it('records every acknowledged write so that the table check verifies it, and routes only to weighted versions', async () => {
    const { ledger, stats, traffic, seeded } = await run({ v1: 100 }, 300);
    expect(stats.failedWrites).toBe(0);
    expect(Object.keys(stats.byVersion)).toEqual(['v1']);
    expect(ledger.acknowledged).toBe(seeded.length + stats.writes);
    const report = await checkTable(pool, shape, ledger, 'after v1 traffic', false);
    expect(report.checked).toBe(ledger.latestWrites().length);
    expect(report.mismatches).toEqual([]);
    const reads = traffic.takeReads();
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((r) => r.old && !r.new && r.actual?.full_name === r.write.columns.full_name)).toBe(true);
  });

  it("detects a row altered behind the writer's back, and a row deleted", async () => {
    const { ledger } = await run({ v1: 100 }, 200);
    const [altered, deleted] = ledger.latestWrites().filter((w) => w.op !== 'seed');
    await sql(url, `UPDATE customers SET full_name = full_name || '!' WHERE id = $1`, [altered.id]);
    await sql(url, `DELETE FROM customers WHERE id = $1`, [deleted.id]);
    const report = await checkTable(pool, shape, ledger, 'after tampering', false);
    const found = report.mismatches.map((m) => ({ id: m.id, gone: m.actual === null }));
    expect(found.sort((a, b) => Number(a.id) - Number(b.id))).toEqual(
      [
        { id: altered.id, gone: false },
        { id: deleted.id, gone: true },
      ].sort((a, b) => Number(a.id) - Number(b.id)),
    );
  });

  it('checks the new columns against up(full_name) once expanded, and detects a wrong first_name', async () => {
    const { ledger } = await run({ v1: 100 }, 100);
    await expand(splitSpec(), { databaseUrl: url });
    await backfill(splitSpec(), { databaseUrl: url });
    const mixed = new TrafficGenerator({
      stores: { v1: createStore('v1', pool), v2: createStore('v2', pool) },
      ledger,
      names: britishNames(5),
      ids: ledger.latestWrites().map((w) => w.id),
      workers: 4,
      opsPerSecond: 0,
      random: randomSource(11),
    });
    mixed.start('dual-write', { v1: 50, v2: 50 });
    while (mixed.currentStats().writes < 200) await sleep(5);
    const stats = await mixed.stop();
    expect(Object.keys(stats.byVersion).sort()).toEqual(['v1', 'v2']);
    expect((await checkTable(pool, shape, ledger, 'after dual-write', true)).mismatches).toEqual([]);
    const victim = ledger.latestWrites().find((w) => w.version === 'v1')!;
    await sql(
      url,
      `SET tandem.backfill = 'on'; UPDATE customers SET first_name = 'Nobody' WHERE id = ${Number(victim.id)}`,
    );
    const report = await checkTable(pool, shape, ledger, 'after tampering', true);
    expect(report.mismatches.map((m) => m.id)).toEqual([victim.id]);
  });

  it('shift to PAUSED returns only once no request is in flight, and nothing is written while paused', async () => {
    const seeded = await seedCustomers(pool, 50, britishNames(6));
    const ledger = new WriteLedger();
    const traffic = new TrafficGenerator({
      stores: { v1: createStore('v1', pool) },
      ledger,
      names: britishNames(7),
      ids: seeded.map((s) => s.id),
      workers: 4,
      opsPerSecond: 0,
    });
    traffic.start('busy', { v1: 100 });
    while (ledger.acknowledged < 50) await sleep(5);
    await traffic.shift('paused', PAUSED);
    const count = ledger.acknowledged;
    await sleep(100);
    expect(ledger.acknowledged).toBe(count);
    const paused = await traffic.stop();
    expect([paused.stage, paused.writes, paused.reads]).toEqual(['paused', 0, 0]);
  });
});

describe('demo traffic: multi-row transactions', () => {
  it('renames two or three customers in one transaction, the higher id first, and every row is checked', async () => {
    const url = await freshDatabase('traffic_multi');
    await sql(url, customersTableSql());
    const pool = new Pool({ connectionString: url, max: 10 });
    try {
      const seeded = await seedCustomers(pool, 100, britishNames(12));
      const ledger = new WriteLedger();
      for (const s of seeded)
        ledger.record({ id: s.id, version: 'v1', op: 'seed', columns: { full_name: s.name }, stage: 'seed' });
      const traffic = new TrafficGenerator({
        stores: { v1: createStore('v1', pool) },
        pools: { v1: pool },
        mix: { create: 0, rename: 0, read: 0, multi: 1 },
        ledger,
        names: britishNames(13),
        ids: seeded.map((s) => s.id),
        workers: 4,
        opsPerSecond: 0,
        random: randomSource(14),
      });
      traffic.start('multi', { v1: 100 });
      while (traffic.currentStats().writes < 200) await sleep(5);
      const stats = await traffic.stop();
      expect(stats.failedWrites).toBe(0);
      // More rows written than transactions acknowledged: each transaction wrote two or three.
      expect(stats.writes).toBeGreaterThan(stats.writeMs.length * 2 - 1);
      expect(ledger.acknowledged).toBe(seeded.length + stats.writes);
      expect((await checkTable(pool, shape, ledger, 'after multi-row transactions', false)).mismatches).toEqual([]);
    } finally {
      await pool.end();
    }
  });
});
