import { Client } from 'pg';
import { backfill, contract, expand, verify } from '../executor';
import { freshDatabase, withClient } from './db';
import { createCustomers, splitSpec } from './fixtures';

/**
 * v1, v2 and v3 writers, each writing exactly what its version writes, run while expand,
 * backfill, verify and contract happen, with a long transaction blocking expand. Zero failed
 * writes, every acknowledged write readable with the right values, the row count exact, and no
 * app write waits much longer than the lock timeout.
 */
type Version = 'v1' | 'v2' | 'v3';
interface Ack {
  version: Version;
  full?: string;
  first?: string;
  last?: string | null;
}

/** The spec's up expressions, in JavaScript, to predict what the trigger derives. */
function up(full: string): { first: string; last: string | null } {
  const first = full.split(' ')[0];
  const rest = full.substring(first.length + 1);
  return { first, last: rest === '' ? null : rest };
}

const NAMES = [
  'Ada Lovelace',
  'Alan  Turing',
  'Grace Hopper ',
  'Tim Berners-Lee',
  'Cher',
  'Mary Ann Evans',
  'Isambard Kingdom Brunel',
];

class Writer {
  readonly acks = new Map<string, Ack>();
  readonly failures: string[] = [];
  readonly latencies: number[] = [];
  inserted = 0;
  private running = false;
  private loop?: Promise<void>;
  private n = 0;

  constructor(
    private readonly client: Client,
    readonly version: Version,
    private readonly tag: string,
  ) {}

  private async timed<T>(fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.latencies.push(performance.now() - t0);
    }
  }

  private nextName(): { full: string; first: string; last: string } {
    const base = NAMES[this.n % NAMES.length];
    this.n++;
    const first = `${this.tag}${this.n}`;
    return { full: `${first} ${base}`, first, last: base };
  }

  private async step(): Promise<void> {
    const { full, first, last } = this.nextName();
    const own = [...this.acks.keys()];
    const update = own.length > 0 && this.n % 3 === 0;
    const id = update ? own[this.n % own.length] : undefined;
    try {
      if (this.version === 'v1' && own.length >= 2 && this.n % 4 === 0) {
        // A multi-row transaction: the higher key first, then a lower one (the order that deadlocked a keyset backfill).
        const [lo, hi] = [own[this.n % own.length], own[(this.n + 1) % own.length]].sort(
          (a, b) => Number(a) - Number(b),
        );
        if (lo !== hi) {
          const other = `${full} Two`;
          await this.timed(async () => {
            await this.client.query('BEGIN');
            try {
              await this.client.query(`UPDATE customers SET full_name = $2 WHERE id = $1`, [hi, other]);
              await this.client.query(`UPDATE customers SET full_name = $2 WHERE id = $1`, [lo, full]);
              await this.client.query('COMMIT');
            } catch (err) {
              await this.client.query('ROLLBACK').catch(() => undefined);
              throw err;
            }
          });
          this.acks.set(hi, { version: 'v1', full: other });
          this.acks.set(lo, { version: 'v1', full });
        }
      } else if (this.version === 'v2' && id && this.n % 5 === 0 && this.acks.get(id)?.version === 'v2') {
        // A v2 write that repeats the values it wrote last: nothing may change.
        const ack = this.acks.get(id)!;
        await this.timed(() =>
          this.client.query(`UPDATE customers SET full_name = $2, first_name = $3, last_name = $4 WHERE id = $1`, [
            id,
            ack.full,
            ack.first,
            ack.last,
          ]),
        );
      } else if (this.version === 'v1') {
        if (id) {
          await this.timed(() => this.client.query(`UPDATE customers SET full_name = $2 WHERE id = $1`, [id, full]));
          this.acks.set(id, { version: 'v1', full });
        } else {
          const r = await this.timed(() =>
            this.client.query(`INSERT INTO customers (full_name) VALUES ($1) RETURNING id`, [full]),
          );
          this.acks.set(r.rows[0].id, { version: 'v1', full });
          this.inserted++;
        }
      } else if (this.version === 'v2') {
        const v2full = `${first} ${last}`;
        if (id) {
          await this.timed(() =>
            this.client.query(`UPDATE customers SET full_name = $2, first_name = $3, last_name = $4 WHERE id = $1`, [
              id,
              v2full,
              first,
              last,
            ]),
          );
          this.acks.set(id, { version: 'v2', full: v2full, first, last });
        } else {
          const r = await this.timed(() =>
            this.client.query(
              `INSERT INTO customers (full_name, first_name, last_name) VALUES ($1, $2, $3) RETURNING id`,
              [v2full, first, last],
            ),
          );
          this.acks.set(r.rows[0].id, { version: 'v2', full: v2full, first, last });
          this.inserted++;
        }
      } else {
        if (id) {
          await this.timed(() =>
            this.client.query(`UPDATE customers SET first_name = $2, last_name = $3 WHERE id = $1`, [id, first, last]),
          );
          this.acks.set(id, { version: 'v3', first, last });
        } else {
          const r = await this.timed(() =>
            this.client.query(`INSERT INTO customers (first_name, last_name) VALUES ($1, $2) RETURNING id`, [
              first,
              last,
            ]),
          );
          this.acks.set(r.rows[0].id, { version: 'v3', first, last });
          this.inserted++;
        }
      }
    } catch (err: any) {
      this.failures.push(`${this.version}: ${err.message}`);
    }
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.step();
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

const SEED_ROWS = 20000;
const LOCK_TIMEOUT_MS = 300;

it('v1, v2 and v3 writers lose nothing and never fail while the table moves through every step', async () => {
  const url = await freshDatabase('concurrency');
  await createCustomers(url, SEED_ROWS);
  const spec = splitSpec();
  const options = { databaseUrl: url, lockTimeoutMs: LOCK_TIMEOUT_MS };
  const clients: Client[] = [];
  const connect = async () => {
    const c = new Client({ connectionString: url });
    await c.connect();
    clients.push(c);
    return c;
  };
  const writers: Writer[] = [];
  const writer = async (v: Version, tag: string) => {
    const w = new Writer(await connect(), v, tag);
    writers.push(w);
    w.start();
    return w;
  };
  let lockWaits = 0;
  try {
    // Phase 1 (expand): v1 writes while a long transaction holds a lock that blocks the ALTER.
    const v1a = await writer('v1', 'a');
    const v1b = await writer('v1', 'b');
    const blocker = await connect();
    await blocker.query(`BEGIN; SELECT count(*) FROM customers`);
    const release = new Promise<void>((resolve) =>
      setTimeout(() => blocker.query('COMMIT').then(() => resolve()), 2500),
    );
    const expanded = await expand(spec, {
      ...options,
      onProgress: (e) => {
        if (e.kind === 'lock_wait') lockWaits++;
      },
    });
    await release;
    expect(expanded.lockRetries).toBeGreaterThan(0);

    // Phase 2 (dual-write canary): v1 and v2 while backfill and verify run.
    const v2a = await writer('v2', 'c');
    const filled = await backfill(spec, { ...options, batchSize: 500 });
    expect(filled.complete).toBe(true);
    expect((await verify(spec, options)).ok).toBe(true);

    // Phase 3 (cleanup canary): v1 is gone, v2 and v3 run.
    await v1a.stop();
    await v1b.stop();
    const v3a = await writer('v3', 'd');
    await new Promise((r) => setTimeout(r, 500));
    await v2a.stop();
    expect((await verify(spec, options)).ok).toBe(true);

    // Before contract, every v1 write is still in full_name byte for byte.
    await withClient(url, async (c) => {
      for (const w of [v1a, v1b]) {
        for (const [id, ack] of w.acks) {
          const row = (await c.query(`SELECT full_name FROM customers WHERE id = $1`, [id])).rows[0];
          expect(row.full_name).toBe(ack.full);
        }
      }
    });

    // Phase 4 (contract): v3 only.
    const v3b = await writer('v3', 'e');
    await contract(spec, options);
    await new Promise((r) => setTimeout(r, 300));
    await v3a.stop();
    await v3b.stop();

    const failures = writers.flatMap((w) => w.failures);
    expect(failures).toEqual([]);

    await withClient(url, async (c) => {
      const inserted = writers.reduce((n, w) => n + w.inserted, 0);
      expect(Number((await c.query(`SELECT count(*) FROM customers`)).rows[0].count)).toBe(SEED_ROWS + inserted);
      const rows = new Map<string, { first_name: string; last_name: string | null }>();
      for (const r of (await c.query(`SELECT id, first_name, last_name FROM customers`)).rows) rows.set(r.id, r);
      let checked = 0;
      for (const w of writers) {
        for (const [id, ack] of w.acks) {
          const expected = ack.version === 'v1' ? up(ack.full!) : { first: ack.first, last: ack.last };
          expect({ id, ...rows.get(id) }).toEqual({ id, first_name: expected.first, last_name: expected.last });
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(50);
      // Seed rows were backfilled by up().
      expect(rows.get('1')).toEqual({ id: '1', first_name: 'First1', last_name: 'Last1' });
    });

    // While expand waited 2.5 s on the blocker, no app write waited much longer than one lock_timeout.
    const worst = Math.max(...writers.flatMap((w) => w.latencies));
    expect(lockWaits).toBeGreaterThan(0);
    expect(worst).toBeLessThan(LOCK_TIMEOUT_MS + 1500);
    console.log(
      `concurrency: ${writers.reduce((n, w) => n + w.latencies.length, 0)} writes, 0 failed, worst wait ${Math.round(worst)} ms (lock_timeout ${LOCK_TIMEOUT_MS} ms, blocker held 2500 ms), ${lockWaits} lock-timeout retries`,
    );
  } finally {
    await Promise.all(writers.map((w) => w.stop()));
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
});
