import { Client } from 'pg';
import { backfill, expand, verify } from '../executor';
import { freshDatabase, withClient } from './db';
import { createCustomers, splitSpec } from './fixtures';

/**
 * The trigger's rules, write by write: old side only -> new from up; new side only -> old from down;
 * both -> as written. A write of the old column is never altered, even where down(up(x)) != x.
 */
let url: string;
beforeAll(async () => {
  url = await freshDatabase('sync');
  await createCustomers(url, 0);
  await expand(splitSpec(), { databaseUrl: url });
});

type Row = { full_name: string | null; first_name: string | null; last_name: string | null };

async function insert(c: Client, cols: Partial<Row>): Promise<string> {
  const keys = Object.keys(cols);
  const r = await c.query(
    `INSERT INTO customers (${keys.join(', ')}) VALUES (${keys.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
    Object.values(cols),
  );
  return r.rows[0].id;
}

async function read(c: Client, id: string): Promise<Row> {
  return (await c.query(`SELECT full_name, first_name, last_name FROM customers WHERE id = $1`, [id])).rows[0];
}

describe('v1 writes (old column only) are kept byte for byte', () => {
  it.each([
    ['a plain name', 'Ada Lovelace', 'Ada', 'Lovelace'],
    ['a double space', 'Alan  Turing', 'Alan', ' Turing'],
    ['a trailing space', 'Grace Hopper ', 'Grace', 'Hopper '],
    ['a leading space', ' Tim Berners-Lee', '', 'Tim Berners-Lee'],
    ['a single word', 'Cher', 'Cher', null],
    ['three words', 'Mary Ann Evans', 'Mary', 'Ann Evans'],
    ['an empty string', '', '', null],
    ['non-ASCII', 'Zoë  Ó Briain', 'Zoë', ' Ó Briain'],
  ])('insert with %s', async (_what, full, first, last) => {
    await withClient(url, async (c) => {
      const id = await insert(c, { full_name: full });
      expect(await read(c, id)).toEqual({ full_name: full, first_name: first, last_name: last });
    });
  });

  it('an update of full_name re-derives the new columns and keeps full_name as written', async () => {
    await withClient(url, async (c) => {
      const id = await insert(c, { full_name: 'Ada Lovelace' });
      await c.query(`UPDATE customers SET full_name = 'Ada  King ' WHERE id = $1`, [id]);
      expect(await read(c, id)).toEqual({ full_name: 'Ada  King ', first_name: 'Ada', last_name: ' King ' });
    });
  });

  it('an update of an unrelated column changes neither side', async () => {
    await withClient(url, async (c) => {
      const id = await insert(c, { full_name: 'Alan  Turing' });
      await c.query(`UPDATE customers SET email = 'x@example.com' WHERE id = $1`, [id]);
      expect(await read(c, id)).toEqual({ full_name: 'Alan  Turing', first_name: 'Alan', last_name: ' Turing' });
    });
  });
});

describe('v3 writes (new columns only) get full_name from down', () => {
  it('an insert that omits the NOT NULL full_name succeeds', async () => {
    await withClient(url, async (c) => {
      const id = await insert(c, { first_name: 'John', last_name: 'Vin' });
      expect(await read(c, id)).toEqual({ full_name: 'John Vin', first_name: 'John', last_name: 'Vin' });
    });
  });

  it('an insert with one new column', async () => {
    await withClient(url, async (c) => {
      const id = await insert(c, { first_name: 'Plato' });
      expect(await read(c, id)).toEqual({ full_name: 'Plato', first_name: 'Plato', last_name: null });
    });
  });

  it('an update of last_name alone re-derives full_name from both new columns', async () => {
    await withClient(url, async (c) => {
      const id = await insert(c, { first_name: 'Ada', last_name: 'Byron' });
      await c.query(`UPDATE customers SET last_name = 'Lovelace' WHERE id = $1`, [id]);
      expect(await read(c, id)).toEqual({ full_name: 'Ada Lovelace', first_name: 'Ada', last_name: 'Lovelace' });
    });
  });
});

describe('v2 writes (both sides) are kept as written', () => {
  it('insert', async () => {
    await withClient(url, async (c) => {
      const id = await insert(c, { full_name: 'John  Vin', first_name: 'John', last_name: 'Vin' });
      expect(await read(c, id)).toEqual({ full_name: 'John  Vin', first_name: 'John', last_name: 'Vin' });
    });
  });

  it('update', async () => {
    await withClient(url, async (c) => {
      const id = await insert(c, { full_name: 'Ada Lovelace' });
      await c.query(
        `UPDATE customers SET full_name = 'Ada King', first_name = 'Ada', last_name = 'King' WHERE id = $1`,
        [id],
      );
      expect(await read(c, id)).toEqual({ full_name: 'Ada King', first_name: 'Ada', last_name: 'King' });
    });
  });
});

describe('rows the backfill has not reached', () => {
  it('an update of another column fills the new columns from the old one, and the backfill leaves full_name alone', async () => {
    const db = await freshDatabase('pending');
    await createCustomers(db, 0);
    await withClient(db, async (c) => {
      await c.query(`INSERT INTO customers (full_name) VALUES ('Alan  Turing'), ('Grace Hopper '), ('Ada Lovelace')`);
      await expand(splitSpec(), { databaseUrl: db });
      await c.query(`UPDATE customers SET email = 'a@example.com' WHERE id = 1`);
      expect(await read(c, '1')).toEqual({ full_name: 'Alan  Turing', first_name: 'Alan', last_name: ' Turing' });
      expect(await read(c, '2')).toEqual({ full_name: 'Grace Hopper ', first_name: null, last_name: null });
      await backfill(splitSpec(), { databaseUrl: db });
      expect(await read(c, '2')).toEqual({ full_name: 'Grace Hopper ', first_name: 'Grace', last_name: 'Hopper ' });
      expect(await read(c, '3')).toEqual({ full_name: 'Ada Lovelace', first_name: 'Ada', last_name: 'Lovelace' });
      expect((await verify(splitSpec(), { databaseUrl: db })).ok).toBe(true);
    });
  });
});

describe('verify', () => {
  it('finds a row whose sides disagree and names its key', async () => {
    const db = await freshDatabase('verify');
    await createCustomers(db, 20);
    const spec = splitSpec();
    await expand(spec, { databaseUrl: db });
    await backfill(spec, { databaseUrl: db });
    await withClient(db, (c) =>
      c.query(`SET tandem.backfill = 'on'; UPDATE customers SET last_name = 'Wrong' WHERE id = 7`),
    );
    const report = await verify(spec, { databaseUrl: db });
    expect(report.ok).toBe(false);
    expect(report.operations).toEqual([
      {
        operation: 'split_column full_name',
        inconsistentRows: 1,
        sampleKeys: ['7'],
        lossyRows: 0,
        lossySampleKeys: [],
      },
    ]);
  });
});
