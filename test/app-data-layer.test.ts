import { Pool } from 'pg';
import { backfill, expand } from '../executor';
import { TALK_CUSTOMERS, NEW_CUSTOMER } from '../app/seed-data';
import { joinName, splitName } from '../app/split-name';
import { createStore } from '../app/versions';
import { customersTableSql } from '../rehearsal/demo-database';
import { freshDatabase, sql } from './db';
import { splitSpec } from './fixtures';

describe('splitName (how v2 and v3 split a typed name)', () => {
  it.each([
    ['John Vin', 'John', 'Vin'],
    ['Winston Leonard Spencer Churchill', 'Winston', 'Leonard Spencer Churchill'],
    ['Mary  Shelley', 'Mary', 'Shelley'],
    ['Twiggy ', 'Twiggy', null],
    ['Adele', 'Adele', null],
    ['  J. K. Rowling ', 'J.', 'K. Rowling'],
  ])('%j -> first %j, last %j', (name, first, last) => {
    expect(splitName(name)).toEqual({ first, last });
  });

  it.each([
    ['John', 'Vin', 'John Vin'],
    ['Adele', null, 'Adele'],
    ['', 'Vin', ' Vin'],
  ])('joinName(%j, %j) is %j, like concat_ws', (first, last, joined) => {
    expect(joinName(first, last)).toBe(joined);
  });
});

describe('the demo app data layer, each version on the schema it expects', () => {
  let url: string;
  let pool: Pool;

  beforeAll(async () => {
    url = await freshDatabase('app');
    pool = new Pool({ connectionString: url, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
  });
  beforeEach(async () => {
    await sql(url, `DROP TABLE IF EXISTS customers; ${customersTableSql()}`);
  });

  it('v1 writes full_name and reads every talk name back byte for byte', async () => {
    const v1 = createStore('v1', pool);
    const created = [];
    for (const name of TALK_CUSTOMERS) created.push(await v1.create(name));
    const rows = await sql(url, 'SELECT full_name FROM customers ORDER BY id');
    expect(rows.map((r) => r.full_name)).toEqual([...TALK_CUSTOMERS]);
    expect((await v1.list()).map((c) => c.name)).toEqual([...TALK_CUSTOMERS]);
    const shelley = created[TALK_CUSTOMERS.indexOf('Mary  Shelley')];
    expect(await v1.get(shelley.id)).toEqual({
      id: shelley.id,
      name: 'Mary  Shelley',
      columns: { full_name: 'Mary  Shelley' },
    });
    const renamed = await v1.rename(shelley.id, 'Mary Wollstonecraft Shelley');
    expect(renamed?.columns).toEqual({ full_name: 'Mary Wollstonecraft Shelley' });
    expect(await v1.rename('999999', 'Nobody')).toBeUndefined();
    expect(await v1.get('999999')).toBeUndefined();
  });

  it('v2 reads first_name/last_name and writes all three, full_name as down would compute it', async () => {
    await sql(url, 'ALTER TABLE customers ADD COLUMN first_name text, ADD COLUMN last_name text');
    const v2 = createStore('v2', pool);
    const vin = await v2.create(NEW_CUSTOMER);
    expect(vin.columns).toEqual({ first_name: 'John', last_name: 'Vin' });
    expect(vin.name).toBe('John Vin');
    const [row] = await sql(
      url,
      'SELECT full_name, first_name, last_name, concat_ws($2, first_name, last_name) AS down FROM customers WHERE id = $1',
      [vin.id, ' '],
    );
    expect(row).toEqual({ full_name: 'John Vin', first_name: 'John', last_name: 'Vin', down: 'John Vin' });
    const adele = await v2.rename(vin.id, 'Adele');
    expect(adele?.columns).toEqual({ first_name: 'Adele', last_name: null });
    const [after] = await sql(url, 'SELECT full_name FROM customers WHERE id = $1', [vin.id]);
    expect(after.full_name).toBe('Adele');
    expect(await v2.get(vin.id)).toEqual({
      id: vin.id,
      name: 'Adele',
      columns: { first_name: 'Adele', last_name: null },
    });
  });

  it('v3 reads and writes first_name/last_name only, and runs once full_name is gone', async () => {
    await sql(
      url,
      'ALTER TABLE customers ADD COLUMN first_name text, ADD COLUMN last_name text, DROP COLUMN full_name',
    );
    const v3 = createStore('v3', pool);
    const vin = await v3.create(NEW_CUSTOMER);
    expect(v3.columnsFor(NEW_CUSTOMER)).toEqual({ first_name: 'John', last_name: 'Vin' });
    expect(await v3.rename(vin.id, 'Jon  Vinn')).toEqual({
      id: vin.id,
      name: 'Jon Vinn',
      columns: { first_name: 'Jon', last_name: 'Vinn' },
    });
    expect((await v3.list()).map((c) => c.name)).toEqual(['Jon Vinn']);
  });

  it('v1 fails on the contracted table: the reason the old column must outlive v1', async () => {
    await sql(
      url,
      'ALTER TABLE customers ADD COLUMN first_name text, ADD COLUMN last_name text, DROP COLUMN full_name',
    );
    await expect(createStore('v1', pool).create('Ada Lovelace')).rejects.toThrow(/full_name/);
  });
});

describe('the three versions side by side on the expanded schema (executor expand, sync trigger)', () => {
  let url: string;
  let pool: Pool;

  beforeAll(async () => {
    url = await freshDatabase('appexp');
    await sql(url, customersTableSql());
    pool = new Pool({ connectionString: url, max: 3 });
    const v1 = createStore('v1', pool);
    for (const name of TALK_CUSTOMERS) await v1.create(name);
    await expand(splitSpec(), { databaseUrl: url });
    await backfill(splitSpec(), { databaseUrl: url });
  });
  afterAll(async () => {
    await pool.end();
  });

  it("v2 reads what v1 wrote, split by the spec's up; v1 still reads its own bytes", async () => {
    const [v1, v2] = [createStore('v1', pool), createStore('v2', pool)];
    const twiggy = await v1.create('Twiggy ');
    expect((await v2.get(twiggy.id))?.columns).toEqual({ first_name: 'Twiggy', last_name: null });
    expect((await v1.get(twiggy.id))?.columns).toEqual({ full_name: 'Twiggy ' });
    const churchill = (await v2.list()).find((c) => c.columns.first_name === 'Winston');
    expect(churchill?.columns.last_name).toBe('Leonard Spencer Churchill');
    expect((await v1.get(churchill!.id))?.name).toBe('Winston Leonard Spencer Churchill');
  });

  it("v1 reads what v2 dual-wrote, and what v3 wrote through the trigger's down", async () => {
    const [v1, v2, v3] = [createStore('v1', pool), createStore('v2', pool), createStore('v3', pool)];
    const vin = await v2.create(NEW_CUSTOMER);
    expect((await v1.get(vin.id))?.columns).toEqual({ full_name: 'John Vin' });
    const renamed = await v3.rename(vin.id, 'Johnny Vincent');
    expect(renamed?.columns).toEqual({ first_name: 'Johnny', last_name: 'Vincent' });
    expect((await v1.get(vin.id))?.columns).toEqual({ full_name: 'Johnny Vincent' });
    const adele = await v3.create('Adele');
    expect((await v1.get(adele.id))?.columns).toEqual({ full_name: 'Adele' });
  });

  it('v1 renaming a row after v3 wrote it fills the new columns again', async () => {
    const [v1, v3] = [createStore('v1', pool), createStore('v3', pool)];
    const row = await v3.create('Ada Lovelace');
    await v1.rename(row.id, 'Augusta Ada King');
    expect((await v3.get(row.id))?.columns).toEqual({ first_name: 'Augusta', last_name: 'Ada King' });
  });
});
